//! Faults: processes killed at random moments, outages, a hostile proxy, storage failures and a full disk, backups.
//!
//! One test binary for these scenarios (one link instead of one per file); each module is one
//! scenario file, its tests keep their names under the module's path.

mod backup;
mod db_check;
mod db_migrate;
mod faults_agent_crash;
mod faults_directives;
mod faults_hub_crash;
mod faults_hub_failover;
mod faults_outage;
mod faults_proxy;
mod journal_crash;
mod replicas;
mod samples_crash;
mod storage_faults;
mod storage_full;
