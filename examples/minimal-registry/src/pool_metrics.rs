//! `/metrics` figures of the database connection pools (PostgreSQL), read
//! at each scrape: how many connections each store holds, idle or in use,
//! its maximum, and how many requests wait for one.

use std::fmt;

use wharf_server::prometheus_client::collector::Collector;
use wharf_server::prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use wharf_server::prometheus_client::metrics::gauge::ConstGauge;

/// A pool's state at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolFigures {
    /// The most connections it opens.
    pub max: usize,
    /// The connections open now.
    pub open: usize,
    /// Of those, the idle ones.
    pub idle: usize,
    /// Requests waiting for a connection.
    pub waiting: usize,
}

/// Reads a pool's figures.
pub type Probe = Box<dyn Fn() -> PoolFigures + Send + Sync>;

/// The pools of the stores, by store name (`storage`, `packages`).
#[derive(Default)]
pub struct DatabasePools {
    pools: Vec<(&'static str, Probe)>,
}

impl fmt::Debug for DatabasePools {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<_> = self.pools.iter().map(|(name, _)| *name).collect();
        f.debug_struct("DatabasePools")
            .field("pools", &names)
            .finish()
    }
}

impl DatabasePools {
    /// Adds the pool of `store`.
    pub fn add(&mut self, store: &'static str, probe: Probe) {
        self.pools.push((store, probe));
    }

    /// Whether there is no pool to report.
    pub fn is_empty(&self) -> bool {
        self.pools.is_empty()
    }
}

impl Collector for DatabasePools {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), fmt::Error> {
        let figures: Vec<_> = self
            .pools
            .iter()
            .map(|(name, probe)| (*name, probe()))
            .collect();
        let gauge = |value: usize| ConstGauge::new(i64::try_from(value).unwrap_or(i64::MAX));

        // (name, help, a pool's gauges: the `state` label, if any, and the value)
        type Gauges = fn(&PoolFigures) -> Vec<(Option<&'static str>, usize)>;
        let families: [(&str, &str, Gauges); 3] = [
            (
                "wharf_database_pool_connections",
                "Database connections a store's pool holds, idle or in use",
                |f| {
                    let busy = f.open.saturating_sub(f.idle);
                    vec![(Some("idle"), f.idle), (Some("in_use"), busy)]
                },
            ),
            (
                "wharf_database_pool_max_connections",
                "The most connections a store's pool opens",
                |f| vec![(None, f.max)],
            ),
            (
                "wharf_database_pool_waiting",
                "Requests waiting for a database connection, by store",
                |f| vec![(None, f.waiting)],
            ),
        ];
        for (name, help, gauges) in families {
            let mut family = encoder.encode_descriptor(name, help, None, gauge(0).metric_type())?;
            for (store, f) in &figures {
                for (state, value) in gauges(f) {
                    let mut labels = vec![("store", *store)];
                    labels.extend(state.map(|state| ("state", state)));
                    gauge(value).encode(family.encode_family(&labels)?)?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wharf_server::prometheus_client::registry::Registry;

    #[test]
    fn every_pool_is_reported_by_store_and_state() {
        let mut pools = DatabasePools::default();
        pools.add(
            "storage",
            Box::new(|| PoolFigures {
                max: 16,
                open: 5,
                idle: 3,
                waiting: 0,
            }),
        );
        pools.add(
            "packages",
            Box::new(|| PoolFigures {
                max: 8,
                open: 8,
                idle: 0,
                waiting: 4,
            }),
        );
        let mut registry = Registry::default();
        registry.register_collector(Box::new(pools));
        let mut text = String::new();
        wharf_server::prometheus_client::encoding::text::encode(&mut text, &registry)
            .expect("encode");
        for line in [
            "wharf_database_pool_connections{store=\"storage\",state=\"idle\"} 3",
            "wharf_database_pool_connections{store=\"storage\",state=\"in_use\"} 2",
            "wharf_database_pool_connections{store=\"packages\",state=\"in_use\"} 8",
            "wharf_database_pool_max_connections{store=\"packages\"} 8",
            "wharf_database_pool_waiting{store=\"packages\"} 4",
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
    }
}
