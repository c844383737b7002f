//! Pages of a list answer: `offset` and `limit` query parameters, the page as a JSON array
//! (the body stays what it always was), and the size of the whole list in `X-Total-Count`.

use actix_web::HttpResponse;
use serde::{Deserialize, Serialize};

/// Items in a page when the client does not say, and the most it may ask for.
pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;

pub const TOTAL_COUNT: &str = "x-total-count";

#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Page {
    #[serde(default)]
    offset: usize,
    #[serde(default)]
    limit: Option<usize>,
}

impl Page {
    /// The page of `items`, and how many there are in all.
    pub fn of<T>(self, items: Vec<T>) -> (usize, Vec<T>) {
        let total = items.len();
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
        let page = items.into_iter().skip(self.offset).take(limit).collect();
        (total, page)
    }
}

/// A 200 with the page as a JSON array and the whole list's size in `X-Total-Count`.
pub fn respond<T: Serialize>((total, page): (usize, Vec<T>)) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((TOTAL_COUNT, total.to_string()))
        .json(page)
}
