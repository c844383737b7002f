//! The repository contract suites (tests/contract/) on sled, the embedded store: each suite on
//! a fresh data directory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod contract;

use yuanjiao::disk::FreeSpaceFloor;
use yuanjiao::store::Store;

fn on_sled(suite: fn(&dyn yuanjiao::repo::Repositories)) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), FreeSpaceFloor::new(dir.path(), 0)).unwrap();
    suite(&store);
}

#[test]
fn the_job_queue_contract_holds_on_sled() {
    on_sled(contract::job_queue);
}

#[test]
fn the_asset_contract_holds_on_sled() {
    on_sled(contract::assets);
}

#[test]
fn the_blob_meta_contract_holds_on_sled() {
    on_sled(contract::blob_meta);
}

#[test]
fn the_catalog_contract_holds_on_sled() {
    on_sled(contract::catalog);
}

#[test]
fn the_upload_contract_holds_on_sled() {
    on_sled(contract::uploads);
}

#[test]
fn the_delivery_contract_holds_on_sled() {
    on_sled(contract::deliveries);
}

#[test]
fn the_rejection_contract_holds_on_sled() {
    on_sled(contract::rejections);
}

#[test]
fn the_secret_contract_holds_on_sled() {
    on_sled(contract::secrets);
}

#[test]
fn the_people_contract_holds_on_sled() {
    on_sled(contract::people::people);
}

#[test]
fn the_audit_contract_holds_on_sled() {
    on_sled(contract::people::audit);
}

#[test]
fn the_token_contract_holds_on_sled() {
    on_sled(contract::people::tokens);
}

#[test]
fn the_ledger_group_commit_contract_holds_on_sled() {
    on_sled(contract::ledger::group_commit);
}

#[test]
fn concurrent_ledger_batches_keep_each_members_order_on_sled() {
    on_sled(contract::ledger::concurrent_batches_keep_each_members_order);
}

#[test]
fn a_write_from_a_stale_head_is_refused_whole_on_sled() {
    on_sled(contract::ledger::stale_heads_are_refused_whole);
}

#[test]
fn a_report_id_is_stored_once_on_sled() {
    on_sled(contract::ledger::an_id_is_stored_once);
}
