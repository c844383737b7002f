//! `GET /api/v1/lessons/{id}/play` (members and stations): the variant a player gets after
//! negotiation and fallback, its URLs, and the caller's resume position.

use super::auth::Caller;
use super::catalog::{lesson_lang, preferences, same_or_chosen, view, LangParam};
use super::error::ApiError;
use super::json::{revalidatable, Audience as Cache};
use crate::domain::catalog::{CourseState, Lesson, LessonKind, Variant};
use crate::domain::lang::{Lang, Negotiated, Preferences};
use crate::domain::org::{Action, Principal};
use crate::ledger::evidence::AttentionPlan;
use crate::services::Services;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use std::collections::BTreeMap;

type ServicesData = web::Data<Services>;

#[derive(Serialize)]
struct Play<'a> {
    lesson: &'a str,
    course: &'a str,
    course_version: u32,
    kind: LessonKind,
    duration_ms: u64,
    title: &'a str,
    lang: Negotiated,
    sha256: &'a str,
    mime: &'a str,
    size: u64,
    url: String,
    /// The adaptive stream, once processing has made it.
    hls: Option<String>,
    thumbnail: Option<String>,
    /// Path under the variant → URL, for every file made from it (renditions, HLS, thumbnail).
    files: BTreeMap<String, String>,
    /// Path → bytes, for each of `files` whose size is known: what each choice costs.
    sizes: BTreeMap<String, u64>,
    /// Where the member left off, for a member's own token.
    resume_ms: Option<i64>,
    /// For a member's own token: the session this play's watch reports must name.
    play_session: Option<String>,
    /// Its attention checks, when they are on.
    attention: Option<AttentionPlan>,
}

/// A digest of the client's address and browser: which device a play session went to.
fn device(req: &HttpRequest) -> [u8; 8] {
    use sha2::Digest as _;
    let address = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    let agent = req
        .headers()
        .get(actix_web::http::header::USER_AGENT)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    let digest = sha2::Sha256::new()
        .chain_update(address.as_bytes())
        .chain_update([0])
        .chain_update(agent)
        .finalize();
    let mut device = [0u8; 8];
    device.copy_from_slice(&digest[..8]);
    device
}

/// The languages a caller set in their profile, used when the request names none.
fn profile_languages(services: &Services, who: &Principal) -> Result<Vec<Lang>, ApiError> {
    Ok(crate::people::profile_languages(services, who)?)
}

/// A published lesson and the variant negotiation gave the caller.
pub(super) struct Chosen {
    pub course_id: String,
    pub course_version: u32,
    pub lesson: Lesson,
    pub lang: Negotiated,
    pub prefs: Preferences,
}

impl Chosen {
    /// The negotiated variant (`choose` found it in the lesson).
    pub fn variant(&self) -> Result<&Variant, ApiError> {
        self.lesson.variants.get(&self.lang.served).ok_or_else(|| {
            ApiError::not_found(format!("lesson {:?} has no variants", self.lesson.id))
        })
    }

    pub fn title<'a>(&'a self, services: &'a Services) -> &'a str {
        same_or_chosen(
            &self.lesson.title,
            &self.lang,
            &self.prefs,
            &services.fallbacks,
        )
    }
}

/// The lesson `id` in the language the request (or else the caller's profile) prefers, if the
/// caller may play it: 404 for no such lesson or variant, 410 for a retired course.
pub(super) async fn choose(
    req: &HttpRequest,
    caller: &Caller,
    services: &ServicesData,
    id: &str,
    lang: Option<&str>,
) -> Result<Chosen, ApiError> {
    caller.may(services, &Action::Play)?;
    let mut prefs = preferences(req, lang)?;
    if prefs.is_empty() {
        prefs = Preferences::languages(&profile_languages(services, &caller.0)?);
    }
    let view = view(services).await?;
    let (course, lesson) = view
        .lesson(id)
        .ok_or_else(|| ApiError::not_found(format!("no published lesson {id:?}")))?;
    if course.state == CourseState::Retired {
        return Err(ApiError::new(
            StatusCode::GONE,
            "retired",
            format!("course {:?} has been retired", course.id),
        ));
    }
    let lang = lesson_lang(lesson, &prefs, &services.fallbacks)
        .filter(|lang| lesson.variants.contains_key(&lang.served))
        .ok_or_else(|| ApiError::not_found(format!("lesson {id:?} has no variants")))?;
    Ok(Chosen {
        course_id: course.id.clone(),
        course_version: course.version,
        lesson: lesson.clone(),
        lang,
        prefs,
    })
}

pub async fn get_play(
    req: HttpRequest,
    caller: Caller,
    services: ServicesData,
    id: web::Path<String>,
    params: web::Query<LangParam>,
) -> Result<HttpResponse, ApiError> {
    let chosen = choose(&req, &caller, &services, &id, params.lang.as_deref()).await?;
    let (lesson, variant) = (&chosen.lesson, chosen.variant()?);
    let lang = &chosen.lang;
    let source = crate::domain::digest::Sha256::parse_hex(&variant.sha256)?;
    let member = match &caller.0 {
        Principal::Member { member } => Some(member.clone()),
        _ => None,
    };
    let lesson_id = lesson.id.clone();
    let play_session = member.as_deref().map(|member| {
        let now = services.now_ms() as i64;
        services
            .play_sessions
            .issue(member, &lesson.id, now, device(&req))
    });
    let (derived, resume_ms) = {
        let services = services.clone();
        web::block(move || -> Result<_, ApiError> {
            let derived = crate::catalog::files::made_from(&services.infra, &source)?;
            let resume = match member {
                Some(member) => crate::ledger::report::resume(&services, &member)?
                    .into_iter()
                    .find(|r| r.lesson == lesson_id)
                    .map(|r| r.position_ms),
                None => None,
            };
            Ok((derived, resume))
        })
        .await??
    };
    // A member's URLs carry the play session, so that what they fetch is the play's evidence.
    // (A station adds its own tag, from GET /api/v1/me, to what it fetches.)
    let ps = play_session
        .as_deref()
        .map_or(String::new(), |ps| format!("?ps={ps}"));
    let sizes: BTreeMap<String, u64> = derived
        .iter()
        .filter_map(|f| Some((f.path.clone(), f.size?)))
        .collect();
    let files: BTreeMap<String, String> = derived
        .into_iter()
        .map(|f| {
            let url = format!("/media/{}/{}{ps}", variant.sha256, f.path);
            (f.path, url)
        })
        .collect();
    let play = Play {
        lesson: &lesson.id,
        course: &chosen.course_id,
        course_version: chosen.course_version,
        kind: lesson.kind,
        duration_ms: lesson.duration_ms,
        title: chosen.title(&services),
        sha256: &variant.sha256,
        mime: &variant.mime,
        size: variant.size,
        url: format!("/media/{}{ps}", variant.sha256),
        hls: files.get("hls/master.m3u8").cloned(),
        thumbnail: files.get("thumbnail.jpg").cloned(),
        files,
        sizes,
        resume_ms,
        attention: play_session.as_deref().and_then(|ps| {
            services
                .play_sessions
                .attention_plan(&services.settings.ledger, ps)
        }),
        play_session,
        lang: lang.clone(),
    };
    if play.play_session.is_some() {
        // Each answer issues a new session, so it cannot be revalidated or kept.
        use actix_web::http::header;
        return Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "private, no-store"))
            .insert_header((header::CONTENT_LANGUAGE, lang.served.as_str()))
            .insert_header((header::VARY, "Accept-Language"))
            .json(&play));
    }
    revalidatable(&req, &play, Some(&[lang.served.as_str()]), Cache::Private)
}
