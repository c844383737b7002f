//! yuanjiao (远教) delivers a remote-education curriculum to village stations and credits the
//! study hours members earn by watching it.
//!
//! Layers, from the ground up, each named after what it owns:
//! - [`domain`] holds the pure rules (byte ranges and preconditions, the catalogue's shape,
//!   language tags, blob addresses, crediting); nothing in it does I/O.
//! - [`repo`] names what the use cases need kept, one trait per noun, with the records they
//!   speak in; [`store`] keeps them in sled, the embedded default. [`blobs`] keeps
//!   content-addressed files on disk; [`disk`] refuses writes when the disk runs low.
//! - [`infra`] opens the infrastructure from [`config`] settings and knows no use case.
//! - Use cases, one module per noun, each standing on a host trait over the infrastructure
//!   (e.g. `LedgerHost`): [`people`], [`sign_in`], [`catalog`] (editing, publishing, the read
//!   view, station sync), [`uploads`], [`ledger`], [`ingest`]; [`media`] (probing and
//!   processing, done by FFmpeg in `yuanjiao media worker` child processes under resource
//!   limits) tells its host when a job's files are stored instead of calling up.
//! - [`services`] is the application: the infrastructure and the use cases' state in memory,
//!   implementing every host trait.
//! - [`http`] serves it with actix-web.

pub mod access;
pub mod audit;
pub mod blobs;
pub mod catalog;
pub mod clock;
pub mod config;
pub mod config_ledger;
pub mod config_values;
pub mod disk;
pub mod domain;
pub mod http;
pub mod infra;
pub mod ingest;
pub mod ledger;
pub mod media;
pub mod people;
pub mod people_import;
pub mod repo;
pub mod services;
pub mod sign_in;
pub mod store;
pub mod tls;
pub mod tokens;
pub mod uploads;
