use super::*;
use crate::domain::catalog_edit::{apply, CoursePatch, Edit, LessonPatch, NewCourse, NewLesson};

fn lang(s: &str) -> Lang {
    s.parse().unwrap()
}

fn texts(pairs: &[(&str, &str)]) -> Localized {
    pairs
        .iter()
        .map(|(l, t)| (lang(l), t.to_string()))
        .collect()
}

fn variant(mime: &str) -> Variant {
    Variant {
        sha256: "ab".repeat(32),
        mime: mime.into(),
        size: 10,
    }
}

/// A draft with one video lesson in Chinese and one text lesson in Chinese and Tibetan.
fn course() -> Course {
    let draft = NewCourse {
        id: "party-basics".into(),
        title: texts(&[("zh-Hans", "党的基本知识"), ("bo-Tibt", "ཏང་གི་གཞི་རྩའི་ཤེས་བྱ།")]),
        description: texts(&[("zh-Hans", "简介")]),
        translation: Localized::new(),
        themes: vec![Theme::ConstitutionDiscipline],
        audiences: vec![Audience::Rural],
        programs: vec![],
    }
    .draft()
    .unwrap();
    let lesson = |id: &str, kind| {
        Edit::AddLesson(NewLesson {
            id: id.into(),
            kind,
            duration_ms: 60_000,
            title: texts(&[("zh-Hans", "第一课")]),
        })
    };
    let set = |lesson: &str, l: &str, mime: &str| Edit::SetVariant {
        lesson: lesson.into(),
        lang: lang(l),
        variant: variant(mime),
    };
    apply(
        &draft,
        vec![
            lesson("pb-01", LessonKind::Video),
            lesson("pb-02", LessonKind::Text),
            set("pb-01", "zh-Hans", "video/mp4"),
            set("pb-02", "zh-Hans", "text/markdown; charset=utf-8"),
            set("pb-02", "bo-Tibt", "text/markdown; charset=utf-8"),
        ],
    )
    .unwrap()
}

#[test]
fn a_complete_draft_is_publishable() {
    let c = course();
    assert_eq!(c.check_publishable(), Ok(()));
    assert_eq!(c.languages().len(), 2);
}

#[test]
fn every_bad_edit_is_rejected_with_its_reason_and_changes_nothing() {
    let lesson_patch = |patch: LessonPatch| Edit::Lesson {
        id: "pb-01".into(),
        patch,
    };
    let cases: Vec<(&str, Edit)> = vec![
        (
            "kind-mismatch",
            Edit::SetVariant {
                lesson: "pb-01".into(),
                lang: lang("ug-Arab"),
                variant: variant("text/markdown"),
            },
        ),
        (
            "kind-mismatch",
            lesson_patch(LessonPatch {
                kind: Some(LessonKind::Text),
                ..Default::default()
            }),
        ),
        (
            "unknown-lesson",
            Edit::SetVariant {
                lesson: "pb-99".into(),
                lang: lang("zh-Hans"),
                variant: variant("video/mp4"),
            },
        ),
        (
            "lesson-taken",
            Edit::AddLesson(NewLesson {
                id: "pb-01".into(),
                kind: LessonKind::Text,
                duration_ms: 1,
                title: texts(&[("zh-Hans", "重复")]),
            }),
        ),
        (
            "bad-identifier",
            Edit::AddLesson(NewLesson {
                id: "PB 03".into(),
                kind: LessonKind::Text,
                duration_ms: 1,
                title: texts(&[("zh-Hans", "三")]),
            }),
        ),
        (
            "missing-chinese-title",
            Edit::AddLesson(NewLesson {
                id: "pb-03".into(),
                kind: LessonKind::Text,
                duration_ms: 1,
                title: texts(&[("bo-Tibt", "གསུམ")]),
            }),
        ),
        (
            "bad-duration",
            lesson_patch(LessonPatch {
                duration_ms: Some(0),
                ..Default::default()
            }),
        ),
        (
            "empty-text",
            Edit::Course(CoursePatch {
                description: Some([(lang("ug-Arab"), Some("  ".into()))].into()),
                ..Default::default()
            }),
        ),
        (
            "missing-chinese-title",
            Edit::Course(CoursePatch {
                title: Some([(lang("zh-Hans"), None)].into()),
                ..Default::default()
            }),
        ),
        (
            "untagged",
            Edit::Course(CoursePatch {
                audiences: Some(vec![]),
                ..Default::default()
            }),
        ),
        (
            "bad-order",
            Edit::Course(CoursePatch {
                lessons: Some(vec!["pb-02".into()]),
                ..Default::default()
            }),
        ),
        (
            "bad-order",
            Edit::Course(CoursePatch {
                lessons: Some(vec!["pb-02".into(), "pb-01".into(), "pb-01".into()]),
                ..Default::default()
            }),
        ),
        (
            "no-such-variant",
            Edit::RemoveVariant {
                lesson: "pb-01".into(),
                lang: lang("mn-Mong"),
            },
        ),
    ];
    let before = course();
    for (code, edit) in cases {
        let described = format!("{edit:?}");
        // A good edit first: the bad one must undo it too.
        let good = Edit::Course(CoursePatch {
            programs: Some(vec![Program::NewMember]),
            ..Default::default()
        });
        let err = apply(&before, vec![good, edit]).unwrap_err();
        assert_eq!(err.code(), code, "{described}: {err}");
        assert!(!err.to_string().is_empty());
    }
    assert_eq!(before, course());
}

#[test]
fn publishing_needs_lessons_with_chinese() {
    let mut empty = course();
    empty.lessons.clear();
    assert_eq!(
        empty.check_publishable().unwrap_err().code(),
        "no-playable-lesson"
    );
    let no_chinese = apply(
        &course(),
        vec![Edit::RemoveVariant {
            lesson: "pb-02".into(),
            lang: lang("zh-Hans"),
        }],
    )
    .unwrap();
    assert_eq!(
        no_chinese.check_publishable(),
        Err(CatalogError::NoChineseVariant("pb-02".into()))
    );
}

#[test]
fn reordering_and_merging_titles() {
    let c = apply(
        &course(),
        vec![Edit::Course(CoursePatch {
            lessons: Some(vec!["pb-02".into(), "pb-01".into()]),
            title: Some(
                [
                    (lang("bo-Tibt"), None),
                    (lang("ug-Arab"), Some("ئاساس".into())),
                ]
                .into(),
            ),
            ..Default::default()
        })],
    )
    .unwrap();
    let order: Vec<&str> = c.lessons.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(order, ["pb-02", "pb-01"]);
    let title_langs: Vec<&str> = c.title.keys().map(Lang::as_str).collect();
    assert_eq!(title_langs, ["ug-Arab", "zh-Hans"]);
    assert!(!c.same_content(&course()));
    let mut next = course();
    next.version = 2;
    next.state = CourseState::Published;
    assert!(next.same_content(&course()));
}

#[test]
fn a_station_holds_only_its_languages_and_audiences() {
    let mut c = course();
    c.state = CourseState::Published;
    let tibetan: BTreeSet<Lang> = [lang("bo-Tibt")].into();
    let held = c.for_station(&tibetan, &[]).unwrap();
    assert_eq!(held.lessons.len(), 1, "the video has no Tibetan variant");
    assert!(c.for_station(&tibetan, &[Audience::Student]).is_none());
    assert!(c.for_station(&[lang("ko-Kore")].into(), &[]).is_none());
    c.state = CourseState::Retired;
    assert!(c.for_station(&tibetan, &[]).is_none());
}

#[test]
fn video_lessons_take_audio_and_video_only() {
    for (kind, mime, ok) in [
        (LessonKind::Video, "video/mp4", true),
        (LessonKind::Video, "audio/mp4", true),
        (LessonKind::Video, "text/markdown", false),
        (LessonKind::Text, "text/markdown; charset=utf-8", true),
        (LessonKind::Text, "application/pdf", true),
        (LessonKind::Text, "video/mp4", false),
        (LessonKind::Text, "application/octet-stream", false),
    ] {
        assert_eq!(kind.accepts(mime), ok, "{kind:?} {mime}");
    }
}

#[test]
fn every_taxon_has_two_names() {
    fn named<T: Taxon>() {
        for t in T::ALL {
            let (zh, en) = t.names();
            assert!(!zh.is_empty() && !en.is_empty());
        }
    }
    named::<Theme>();
    named::<Audience>();
    named::<Program>();
    assert_eq!(Audience::ALL.len(), 9);
}
