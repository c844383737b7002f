//! yuanjiao (远教) delivers a remote-education curriculum to village stations and credits the
//! study hours members earn by watching it.
//!
//! Layers, each named after what it owns:
//! - [`domain`] holds the pure rules (byte ranges and preconditions, the catalogue's shape,
//!   language tags, blob addresses); nothing in it does I/O.
//! - [`store`] keeps state in sled; [`blobs`] keeps content-addressed files on disk; [`disk`]
//!   refuses writes when the disk runs low.
//! - [`services`] opens all of that from [`config`] settings.
//! - Use cases, one module per noun: [`catalog`] (editing, publishing, the read view, station
//!   sync), [`people`], [`sign_in`], [`ingest`] (course folders through the catalogue's use
//!   cases), [`media`] (probing and processing, done by FFmpeg in `yuanjiao media worker`
//!   child processes under resource limits, never in the server itself).
//! - [`http`] serves it with actix-web.

pub mod audit;
pub mod blobs;
pub mod catalog;
pub mod clock;
pub mod config;
pub mod config_ledger;
pub mod disk;
pub mod domain;
pub mod http;
pub mod infra;
pub mod ingest;
pub mod ledger;
pub mod media;
pub mod people;
pub mod people_import;
pub mod services;
pub mod sign_in;
pub mod store;
pub mod tls;
pub mod tokens;
pub mod uploads;
