//! The repository contract suites (tests/contract/) on PostgreSQL: each suite on a fresh
//! database of the tests' throwaway cluster (tests/support/postgres.rs).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod contract;
#[path = "support/postgres.rs"]
mod postgres;

use std::time::Duration;
use yuanjiao::disk::FreeSpaceFloor;
use yuanjiao::store::pg::{PgConfig, PgStore};

fn on_postgres(suite: fn(&dyn yuanjiao::repo::Repositories)) {
    let dir = tempfile::tempdir().unwrap();
    let config = PgConfig {
        url: postgres::database(),
        pool_size: 8,
        statement_timeout: Duration::from_secs(30),
    };
    let store = PgStore::open(&config, FreeSpaceFloor::new(dir.path(), 0)).unwrap();
    suite(&store);
}

#[test]
fn the_job_queue_contract_holds_on_postgres() {
    on_postgres(contract::job_queue);
}

#[test]
fn the_asset_contract_holds_on_postgres() {
    on_postgres(contract::assets);
}

#[test]
fn the_blob_meta_contract_holds_on_postgres() {
    on_postgres(contract::blob_meta);
}

#[test]
fn the_catalog_contract_holds_on_postgres() {
    on_postgres(contract::catalog);
}

#[test]
fn the_upload_contract_holds_on_postgres() {
    on_postgres(contract::uploads);
}

#[test]
fn the_delivery_contract_holds_on_postgres() {
    on_postgres(contract::deliveries);
}

#[test]
fn the_rejection_contract_holds_on_postgres() {
    on_postgres(contract::rejections);
}

#[test]
fn the_secret_contract_holds_on_postgres() {
    on_postgres(contract::secrets);
}

#[test]
fn the_people_contract_holds_on_postgres() {
    on_postgres(contract::people::people);
}

#[test]
fn the_audit_contract_holds_on_postgres() {
    on_postgres(contract::people::audit);
}

#[test]
fn the_token_contract_holds_on_postgres() {
    on_postgres(contract::people::tokens);
}

#[test]
fn the_ledger_group_commit_contract_holds_on_postgres() {
    on_postgres(contract::ledger::group_commit);
}

#[test]
fn concurrent_ledger_batches_keep_each_members_order_on_postgres() {
    on_postgres(contract::ledger::concurrent_batches_keep_each_members_order);
}

#[test]
fn a_write_from_a_stale_head_is_refused_whole_on_postgres() {
    on_postgres(contract::ledger::stale_heads_are_refused_whole);
}

#[test]
fn a_report_id_is_stored_once_on_postgres() {
    on_postgres(contract::ledger::an_id_is_stored_once);
}
