//! Station sync as a property: whatever edits, publishes and retirements happen, a station that
//! synced up to any sequence number and then syncs again holds exactly what a fresh full sync
//! gives, which is exactly the published catalogue for its languages and audiences.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use yuanjiao::catalog::{self, Change, Station};
use yuanjiao::clock::SystemClock;
use yuanjiao::config::Settings;
use yuanjiao::domain::catalog::{Audience, Course, LessonKind, Theme};
use yuanjiao::domain::catalog_edit::{CoursePatch, Edit, NewCourse, NewLesson};
use yuanjiao::domain::lang::Lang;
use yuanjiao::services::Services;

const LANGS: [&str; 3] = ["zh-Hans", "bo-Tibt", "ug-Arab"];
const AUDIENCES: [Audience; 2] = [Audience::Rural, Audience::Student];

#[derive(Debug, Clone)]
enum Op {
    Create(u8),
    AddLesson(u8, u8),
    SetVariant(u8, u8, usize, usize),
    RemoveVariant(u8, u8, usize),
    RemoveLesson(u8, u8),
    Retitle(u8, u8),
    Audiences(u8, bool, bool),
    Publish(u8),
    Retire(u8),
}

fn op() -> impl Strategy<Value = Op> {
    let course = 0u8..3;
    let lesson = 0u8..3;
    prop_oneof![
        course.clone().prop_map(Op::Create),
        (course.clone(), lesson.clone()).prop_map(|(c, l)| Op::AddLesson(c, l)),
        (course.clone(), lesson.clone(), 0..LANGS.len(), 0usize..4)
            .prop_map(|(c, l, g, b)| Op::SetVariant(c, l, g, b)),
        (course.clone(), lesson.clone(), 0..LANGS.len())
            .prop_map(|(c, l, g)| Op::RemoveVariant(c, l, g)),
        (course.clone(), lesson).prop_map(|(c, l)| Op::RemoveLesson(c, l)),
        (course.clone(), any::<u8>()).prop_map(|(c, t)| Op::Retitle(c, t)),
        (course.clone(), any::<bool>(), any::<bool>()).prop_map(|(c, a, b)| Op::Audiences(c, a, b)),
        course.clone().prop_map(Op::Publish),
        course.clone().prop_map(Op::Publish),
        course.clone().prop_map(Op::Publish),
        course.prop_map(Op::Retire),
    ]
}

fn lang(i: usize) -> Lang {
    LANGS[i].parse().unwrap()
}

fn zh(text: &str) -> BTreeMap<Lang, String> {
    [(Lang::chinese(), text.to_string())].into()
}

struct World {
    services: Services,
    _dir: tempfile::TempDir,
    blobs: Vec<String>,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings::default();
        settings.storage.data_dir = dir.path().join("data");
        settings.storage.min_free_bytes = 0;
        let services = Services::open(settings, Arc::new(SystemClock)).unwrap();
        let blobs = (0..4)
            .map(|n| {
                let text = format!("# 第{n}课\n");
                let (stored, _) = services
                    .add_blob(text.as_bytes(), &format!("{n}.md"))
                    .unwrap();
                stored.sha256.to_hex()
            })
            .collect();
        World {
            services,
            _dir: dir,
            blobs,
        }
    }

    /// Runs one operation; the catalogue's rules may refuse it, which is part of the game.
    fn run(&self, op: &Op) {
        let s = &self.services;
        let id = |c: &u8| format!("course-{c}");
        let lesson = |c: &u8, l: &u8| format!("course-{c}-lesson-{l}");
        let edit = |c: &u8, e: Edit| catalog::edit_course(s, &id(c), vec![e], "test").map(|_| ());
        let _ = match op {
            // A new course comes with a first lesson in Chinese, so it can be published at once.
            Op::Create(c) => catalog::create_course(
                s,
                NewCourse {
                    id: id(c),
                    title: zh("课程"),
                    description: Default::default(),
                    translation: Default::default(),
                    themes: vec![Theme::PolicyAffairs],
                    audiences: vec![Audience::Rural],
                    programs: vec![],
                },
                "test",
            )
            .and_then(|_| {
                let variant = catalog::variant_of(s, &self.blobs[0])?;
                let first = vec![
                    Edit::AddLesson(NewLesson {
                        id: lesson(c, &0),
                        kind: LessonKind::Text,
                        duration_ms: 60_000,
                        title: zh("第一课"),
                    }),
                    Edit::SetVariant {
                        lesson: lesson(c, &0),
                        lang: Lang::chinese(),
                        variant,
                    },
                ];
                catalog::edit_course(s, &id(c), first, "test").map(|_| ())
            }),
            // Lessons, too, come with Chinese, so most courses stay publishable.
            Op::AddLesson(c, l) => catalog::variant_of(s, &self.blobs[1]).and_then(|variant| {
                let edits = vec![
                    Edit::AddLesson(NewLesson {
                        id: lesson(c, l),
                        kind: LessonKind::Text,
                        duration_ms: 60_000,
                        title: zh("一课"),
                    }),
                    Edit::SetVariant {
                        lesson: lesson(c, l),
                        lang: Lang::chinese(),
                        variant,
                    },
                ];
                catalog::edit_course(s, &id(c), edits, "test").map(|_| ())
            }),
            Op::SetVariant(c, l, g, b) => {
                let variant = catalog::variant_of(s, &self.blobs[*b]).unwrap();
                edit(
                    c,
                    Edit::SetVariant {
                        lesson: lesson(c, l),
                        lang: lang(*g),
                        variant,
                    },
                )
            }
            Op::RemoveVariant(c, l, g) => edit(
                c,
                Edit::RemoveVariant {
                    lesson: lesson(c, l),
                    lang: lang(*g),
                },
            ),
            Op::RemoveLesson(c, l) => edit(c, Edit::RemoveLesson(lesson(c, l))),
            Op::Retitle(c, t) => edit(
                c,
                Edit::Course(CoursePatch {
                    title: Some([(Lang::chinese(), Some(format!("课程{t}")))].into()),
                    ..Default::default()
                }),
            ),
            Op::Audiences(c, rural, student) => {
                let audiences = AUDIENCES
                    .iter()
                    .zip([rural, student])
                    .filter(|(_, on)| **on)
                    .map(|(a, _)| *a)
                    .collect();
                edit(
                    c,
                    Edit::Course(CoursePatch {
                        audiences: Some(audiences),
                        ..Default::default()
                    }),
                )
            }
            Op::Publish(c) => catalog::publish(s, &id(c), "test").map(|_| ()),
            Op::Retire(c) => catalog::retire(s, &id(c), "test").map(|_| ()),
        };
    }

    /// Applies every page after `since` to `held`; returns the sequence number reached.
    fn sync(&self, station: &Station, held: &mut BTreeMap<String, Course>, since: u64) -> u64 {
        let mut seq = since;
        loop {
            let view = self.services.catalog.view(&self.services).unwrap();
            let page = catalog::sync::changes(&self.services, &view, station, seq, 2).unwrap();
            let blobs: BTreeSet<&str> = page.blobs.iter().map(|b| b.sha256.as_str()).collect();
            for change in &page.changes {
                match change {
                    Change::Put { course, .. } => {
                        for v in course.lessons.iter().flat_map(|l| l.variants.values()) {
                            assert!(blobs.contains(v.sha256.as_str()), "a put lists its blobs");
                        }
                        held.insert(course.id.clone(), course.clone());
                    }
                    Change::Delete { id, .. } => {
                        held.remove(id);
                    }
                }
            }
            assert!(page.seq >= seq, "the sequence number never goes back");
            seq = page.seq;
            if !page.more {
                return seq;
            }
        }
    }

    /// The published catalogue as the station should hold it, read straight from the store.
    fn expected(&self, station: &Station) -> BTreeMap<String, Course> {
        self.services
            .store
            .course_entries()
            .unwrap()
            .into_iter()
            .filter_map(|e| {
                e.published?
                    .for_station(&station.languages, &station.audiences)
            })
            .map(|c| (c.id.clone(), c))
            .collect()
    }
}

fn station(audiences: Vec<Audience>) -> Station {
    Station {
        languages: [Lang::chinese(), lang(1)].into(),
        audiences,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn syncing_from_any_point_gives_what_a_fresh_full_sync_gives(
        ops in prop::collection::vec(op(), 1..30),
        students_only in any::<bool>(),
    ) {
        let world = World::new();
        let station = station(if students_only { vec![Audience::Student] } else { vec![] });
        // What the station held after syncing at each step.
        let mut snapshots = vec![(0, BTreeMap::new())];
        for op in &ops {
            world.run(op);
            let mut held = BTreeMap::new();
            let seq = world.sync(&station, &mut held, 0);
            snapshots.push((seq, held));
        }
        let mut fresh = BTreeMap::new();
        let head = world.sync(&station, &mut fresh, 0);
        prop_assert_eq!(&fresh, &world.expected(&station));
        for (seq, mut held) in snapshots {
            let reached = world.sync(&station, &mut held, seq);
            prop_assert_eq!(reached, head);
            prop_assert_eq!(&held, &fresh, "caught up from seq {}", seq);
        }
    }
}

#[test]
fn an_unchanged_catalogue_costs_an_empty_page() {
    let world = World::new();
    for op in [
        Op::Create(0),
        Op::AddLesson(0, 0),
        Op::SetVariant(0, 0, 0, 0),
        Op::Publish(0),
    ] {
        world.run(&op);
    }
    let station = station(vec![]);
    let mut held = BTreeMap::new();
    let seq = world.sync(&station, &mut held, 0);
    assert_eq!(held.len(), 1);
    let view = world.services.catalog.view(&world.services).unwrap();
    let page = catalog::sync::changes(&world.services, &view, &station, seq, 50).unwrap();
    assert!(page.changes.is_empty() && page.blobs.is_empty() && !page.more);
    assert_eq!(page.seq, seq);
}
