//! The public catalogue: `/api/v1/courses` (list, filter, search), `/courses/{id}`,
//! `/lessons/{id}`, `/lessons/{id}/play` and `/taxonomy`. Texts come in the language the client
//! negotiated, and every answer says which language that was and whether it was a fallback.

use super::error::ApiError;
use super::json::{revalidatable, Audience as Cache};
use crate::catalog::{Query, View};
use crate::domain::catalog::{
    Audience, Course, CourseState, Lesson, LessonKind, Localized, Program, Taxon, Theme,
};
use crate::domain::lang::{negotiate, Fallbacks, Lang, Negotiated, Preferences, KNOWN};
use crate::services::Services;
use actix_web::http::header::ACCEPT_LANGUAGE;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

type ServicesData = web::Data<Services>;

/// The longest search text, in characters.
const MAX_QUERY_CHARS: usize = 100;

/// What the client asked for: `lang=` first, then `Accept-Language`.
pub(super) fn preferences(req: &HttpRequest, lang: Option<&str>) -> Result<Preferences, ApiError> {
    let header = req
        .headers()
        .get(ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let prefs = Preferences::from_accept_language(header);
    match lang.filter(|l| !l.is_empty()) {
        Some(tag) => Ok(prefs.preferring(explicit_lang(tag)?)),
        None => Ok(prefs),
    }
}

fn explicit_lang(tag: &str) -> Result<Lang, ApiError> {
    match Lang::matching(tag).as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "unknown-language",
            format!("lang={tag:?} is not one of {}", KNOWN.join(", ")),
        )),
    }
}

pub(super) async fn view(services: &ServicesData) -> Result<Arc<View>, ApiError> {
    if let Some(view) = services.catalog.current() {
        return Ok(view);
    }
    let services = services.clone();
    Ok(web::block(move || services.catalog.view(&services)).await??)
}

/// A text in the negotiated language, with how it was chosen.
#[derive(Serialize)]
struct Chosen<'a> {
    text: &'a str,
    lang: Negotiated,
}

fn choose<'a>(texts: &'a Localized, prefs: &Preferences, chains: &Fallbacks) -> Chosen<'a> {
    let available: BTreeSet<Lang> = texts.keys().cloned().collect();
    match negotiate(prefs, &available, chains) {
        Some(lang) => Chosen {
            text: texts.get(&lang.served).map_or("", String::as_str),
            lang,
        },
        None => Chosen {
            text: "",
            lang: Negotiated::of(Lang::chinese(), prefs.first().cloned()),
        },
    }
}

/// The languages answers were served in, most used first, for `Content-Language`.
#[derive(Default)]
struct Served(Vec<(String, usize)>);

impl Served {
    fn note(&mut self, lang: &Negotiated) -> &mut Self {
        match self.0.iter_mut().find(|(l, _)| l == lang.served.as_str()) {
            Some((_, n)) => *n += 1,
            None => self.0.push((lang.served.to_string(), 1)),
        }
        self
    }

    fn tags(&mut self) -> Vec<&str> {
        self.0.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        self.0.iter().map(|(l, _)| l.as_str()).collect()
    }
}

#[derive(Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    #[serde(skip_serializing_if = "Option::is_none")]
    theme: Option<Theme>,
    #[serde(skip_serializing_if = "Option::is_none")]
    audience: Option<Audience>,
    #[serde(skip_serializing_if = "Option::is_none")]
    program: Option<Program>,
    /// Only courses with a variant in this language, shown in it where it can be.
    #[serde(skip_serializing_if = "Option::is_none")]
    lang: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    q: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    after: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    limit: Option<usize>,
}

#[derive(Serialize)]
struct CourseSummary<'a> {
    id: &'a str,
    version: u32,
    title: &'a str,
    description: &'a str,
    lang: Negotiated,
    themes: &'a [Theme],
    audiences: &'a [Audience],
    programs: &'a [Program],
    languages: BTreeSet<Lang>,
    lessons: usize,
}

#[derive(Serialize)]
struct CourseList<'a> {
    courses: Vec<CourseSummary<'a>>,
    next: Option<String>,
}

pub async fn get_courses(
    req: HttpRequest,
    services: ServicesData,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let settings = &services.settings.catalog;
    let limit = params.limit.unwrap_or(settings.page_size);
    if limit == 0 || limit > settings.max_page_size {
        return Err(bad_query(format!(
            "limit must be between 1 and {}",
            settings.max_page_size
        )));
    }
    let text = params.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    if text.is_some_and(|q| q.chars().count() > MAX_QUERY_CHARS) {
        return Err(bad_query(format!(
            "q may be at most {MAX_QUERY_CHARS} characters"
        )));
    }
    let prefs = preferences(&req, params.lang.as_deref())?;
    let query = Query {
        theme: params.theme,
        audience: params.audience,
        program: params.program,
        lang: params
            .lang
            .as_deref()
            .filter(|l| !l.is_empty())
            .map(explicit_lang)
            .transpose()?,
        text: text.map(str::to_string),
        after: params.after.clone(),
        limit,
    };
    let view = view(&services).await?;
    let chains = &services.fallbacks;
    let listing = view.list(&query);
    let mut served = Served::default();
    let courses: Vec<CourseSummary> = listing
        .courses
        .iter()
        .map(|course| {
            let title = choose(&course.title, &prefs, chains);
            served.note(&title.lang);
            let description = same_or_chosen(&course.description, &title.lang, &prefs, chains);
            CourseSummary {
                id: &course.id,
                version: course.version,
                title: title.text,
                description,
                lang: title.lang,
                themes: &course.themes,
                audiences: &course.audiences,
                programs: &course.programs,
                languages: course.languages(),
                lessons: course.lessons.len(),
            }
        })
        .collect();
    let next = match (listing.more, listing.courses.last()) {
        (true, Some(last)) => Some(next_page(&params, &last.id)),
        _ => None,
    };
    let tags = served.tags();
    revalidatable(
        &req,
        &CourseList { courses, next },
        Some(&tags),
        Cache::Public,
    )
}

/// A text in the language already chosen for the title, if it has one.
pub(super) fn same_or_chosen<'a>(
    texts: &'a Localized,
    lang: &Negotiated,
    prefs: &Preferences,
    chains: &Fallbacks,
) -> &'a str {
    match texts.get(&lang.served) {
        Some(text) => text,
        None => choose(texts, prefs, chains).text,
    }
}

fn next_page(params: &ListParams, after: &str) -> String {
    let next = ListParams {
        after: Some(after.to_string()),
        theme: params.theme,
        audience: params.audience,
        program: params.program,
        lang: params.lang.clone(),
        q: params.q.clone(),
        limit: params.limit,
    };
    let query = serde_urlencoded::to_string(&next).unwrap_or_default();
    format!("/api/v1/courses?{query}")
}

fn bad_query(message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "bad-query", message)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LangParam {
    pub(super) lang: Option<String>,
}

#[derive(Serialize)]
struct LessonSummary<'a> {
    id: &'a str,
    kind: LessonKind,
    duration_ms: u64,
    title: &'a str,
    /// The variant a player would get.
    lang: Negotiated,
    languages: Vec<&'a Lang>,
}

#[derive(Serialize)]
struct CourseDetail<'a> {
    id: &'a str,
    version: u32,
    state: CourseState,
    title: &'a str,
    description: &'a str,
    lang: Negotiated,
    titles: &'a Localized,
    descriptions: &'a Localized,
    translation: &'a Localized,
    themes: &'a [Theme],
    audiences: &'a [Audience],
    programs: &'a [Program],
    languages: BTreeSet<Lang>,
    lessons: Vec<LessonSummary<'a>>,
}

/// The variant a client gets of `lesson`: its language and, for the title, the same language
/// where the title has it.
pub(super) fn lesson_lang(
    lesson: &Lesson,
    prefs: &Preferences,
    chains: &Fallbacks,
) -> Option<Negotiated> {
    let available: BTreeSet<Lang> = lesson.variants.keys().cloned().collect();
    negotiate(prefs, &available, chains)
}

pub async fn get_course(
    req: HttpRequest,
    services: ServicesData,
    id: web::Path<String>,
    params: web::Query<LangParam>,
) -> Result<HttpResponse, ApiError> {
    let prefs = preferences(&req, params.lang.as_deref())?;
    let view = view(&services).await?;
    let course: &Course = view
        .course(&id)
        .ok_or_else(|| ApiError::not_found(format!("no published course {id:?}")))?;
    let chains = &services.fallbacks;
    let mut served = Served::default();
    let title = choose(&course.title, &prefs, chains);
    served.note(&title.lang);
    let lessons = course
        .lessons
        .iter()
        .map(|lesson| {
            let lang = lesson_lang(lesson, &prefs, chains).unwrap_or_else(|| title.lang.clone());
            served.note(&lang);
            LessonSummary {
                id: &lesson.id,
                kind: lesson.kind,
                duration_ms: lesson.duration_ms,
                title: same_or_chosen(&lesson.title, &lang, &prefs, chains),
                lang,
                languages: lesson.variants.keys().collect(),
            }
        })
        .collect();
    let detail = CourseDetail {
        id: &course.id,
        version: course.version,
        state: course.state,
        description: same_or_chosen(&course.description, &title.lang, &prefs, chains),
        title: title.text,
        lang: title.lang,
        titles: &course.title,
        descriptions: &course.description,
        translation: &course.translation,
        themes: &course.themes,
        audiences: &course.audiences,
        programs: &course.programs,
        languages: course.languages(),
        lessons,
    };
    let tags = served.tags();
    revalidatable(&req, &detail, Some(&tags), Cache::Public)
}

#[derive(Serialize)]
struct VariantBody<'a> {
    sha256: &'a str,
    mime: &'a str,
    size: u64,
    url: String,
}

#[derive(Serialize)]
struct LessonDetail<'a> {
    id: &'a str,
    course: &'a str,
    course_version: u32,
    state: CourseState,
    kind: LessonKind,
    duration_ms: u64,
    title: &'a str,
    lang: Negotiated,
    titles: &'a Localized,
    variants: BTreeMap<&'a Lang, VariantBody<'a>>,
}

pub async fn get_lesson(
    req: HttpRequest,
    services: ServicesData,
    id: web::Path<String>,
    params: web::Query<LangParam>,
) -> Result<HttpResponse, ApiError> {
    let prefs = preferences(&req, params.lang.as_deref())?;
    let view = view(&services).await?;
    let (course, lesson) = view
        .lesson(&id)
        .ok_or_else(|| ApiError::not_found(format!("no published lesson {id:?}")))?;
    let chains = &services.fallbacks;
    let lang = lesson_lang(lesson, &prefs, chains)
        .ok_or_else(|| ApiError::not_found(format!("lesson {id:?} has no variants")))?;
    let detail = LessonDetail {
        id: &lesson.id,
        course: &course.id,
        course_version: course.version,
        state: course.state,
        kind: lesson.kind,
        duration_ms: lesson.duration_ms,
        title: same_or_chosen(&lesson.title, &lang, &prefs, chains),
        titles: &lesson.title,
        variants: lesson
            .variants
            .iter()
            .map(|(l, v)| {
                let body = VariantBody {
                    sha256: &v.sha256,
                    mime: &v.mime,
                    size: v.size,
                    url: format!("/media/{}", v.sha256),
                };
                (l, body)
            })
            .collect(),
        lang: lang.clone(),
    };
    revalidatable(&req, &detail, Some(&[lang.served.as_str()]), Cache::Public)
}

#[derive(Serialize)]
struct Code {
    code: serde_json::Value,
    #[serde(rename = "zh-Hans")]
    chinese: &'static str,
    en: &'static str,
}

fn codes<T: Taxon + Serialize>() -> Vec<Code> {
    T::ALL
        .iter()
        .map(|t| {
            let (chinese, en) = t.names();
            Code {
                code: serde_json::to_value(t).unwrap_or_default(),
                chinese,
                en,
            }
        })
        .collect()
}

#[derive(Serialize)]
struct LanguageInfo {
    tag: Lang,
    name: &'static str,
    dir: &'static str,
    writing_mode: &'static str,
    falls_back_to: Vec<Lang>,
}

/// The closed taxonomy and the languages, with names, for filters and pickers.
pub async fn get_taxonomy(
    req: HttpRequest,
    services: ServicesData,
) -> Result<HttpResponse, ApiError> {
    let chains = &services.fallbacks;
    let languages: Vec<LanguageInfo> = KNOWN
        .iter()
        .filter_map(|k| k.parse::<Lang>().ok())
        .map(|tag| LanguageInfo {
            name: tag.autonym(),
            dir: tag.dir(),
            writing_mode: tag.writing_mode(),
            falls_back_to: chains.chain(&tag).into_iter().skip(1).collect(),
            tag,
        })
        .collect();
    let body = serde_json::json!({
        "themes": codes::<Theme>(),
        "audiences": codes::<Audience>(),
        "programs": codes::<Program>(),
        "languages": languages,
    });
    revalidatable(&req, &body, None, Cache::Public)
}
