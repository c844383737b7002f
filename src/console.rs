//! What the command line shows while it ingests and processes: progress bars on a terminal,
//! plain lines otherwise (logs and CI).

use indicatif::{ProgressBar, ProgressStyle};
use std::fs::File;
use std::io::{IsTerminal, Read};
use std::time::Instant;
use yuanjiao::domain::digest::Sha256;
use yuanjiao::ingest::{FileOutcome, IngestObserver};
use yuanjiao::media::jobs;
use yuanjiao::repo::JobStatus;
use yuanjiao::services::Services;

pub struct Console {
    bars: bool,
    current: Option<ProgressBar>,
}

impl Console {
    pub fn new() -> Self {
        Console {
            bars: std::io::stdout().is_terminal(),
            current: None,
        }
    }

    fn bar(&self, len: u64, template: &str, message: String) -> ProgressBar {
        let style =
            ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar());
        ProgressBar::new(len)
            .with_style(style)
            .with_message(message)
    }

    /// Runs every queued media job in this process, one bar (or two lines) per job.
    pub fn process_queue(&mut self, services: &Services) -> anyhow::Result<(usize, usize)> {
        let (mut ready, mut failed) = (0, 0);
        loop {
            let mut bar: Option<(Sha256, ProgressBar, Instant)> = None;
            let bars = self.bars;
            let mut on_progress = |sha256: &Sha256, percent: u8| {
                if bar.as_ref().map(|b| &b.0) != Some(sha256) {
                    let name = services
                        .store
                        .blob_meta(sha256)
                        .ok()
                        .flatten()
                        .map_or_else(|| sha256.to_hex()[..12].to_string(), |m| m.filename);
                    let pb = if bars {
                        self.bar(
                            100,
                            "  {msg:40} [{bar:30}] {pos:>3}%",
                            format!("processing {name}"),
                        )
                    } else {
                        println!("  processing {name}");
                        ProgressBar::hidden()
                    };
                    bar = Some((*sha256, pb, Instant::now()));
                }
                if let Some((_, pb, _)) = &bar {
                    pb.set_position(u64::from(percent));
                }
            };
            let Some((sha256, job)) = jobs::run_next(services, &mut on_progress)? else {
                break;
            };
            let seconds = bar.as_ref().map_or(0.0, |b| b.2.elapsed().as_secs_f64());
            if let Some((_, pb, _)) = bar.take() {
                pb.finish_and_clear();
            }
            let short = &sha256.to_hex()[..12];
            match job.status {
                JobStatus::Ready => {
                    ready += 1;
                    let files = services.store.derived_files(&sha256)?.len();
                    println!("  ready     {short}: {files} files in {seconds:.1} s");
                }
                JobStatus::Queued => {
                    println!("  retrying  {short}: {}", job.error.unwrap_or_default())
                }
                _ => {
                    failed += 1;
                    println!("  failed    {short}: {}", job.error.unwrap_or_default());
                }
            }
        }
        Ok((ready, failed))
    }
}

impl IngestObserver for Console {
    fn reading(&mut self, file: &str, reader: File) -> Box<dyn Read> {
        if !self.bars {
            return Box::new(reader);
        }
        let size = reader.metadata().map_or(0, |m| m.len());
        let pb = self.bar(
            size,
            "  {msg:40} [{bar:30}] {bytes}/{total_bytes}",
            format!("hashing {file}"),
        );
        self.current = Some(pb.clone());
        Box::new(pb.wrap_read(reader))
    }

    fn stored(&mut self, f: &FileOutcome) {
        if let Some(pb) = self.current.take() {
            pb.finish_and_clear();
        }
        let state = if f.new { "stored" } else { "unchanged" };
        let queued = if f.queued { ", renditions queued" } else { "" };
        println!(
            "  {:<9} {} [{}] {} ({} bytes) {}{queued}",
            state,
            f.lesson,
            f.lang,
            f.file,
            f.size,
            &f.sha256[..12]
        );
        if let Some(probe) = &f.probe {
            println!("            {probe}");
        }
    }
}
