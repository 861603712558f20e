//! `/metrics` figures of the object store that holds the blobs, read at
//! each scrape from its [`ObjectStoreMetrics`]: requests by operation and
//! outcome, their time, and the bytes sent and received.

use std::fmt;

use wharf_server::prometheus_client::collector::Collector;
use wharf_server::prometheus_client::encoding::{
    DescriptorEncoder, EncodeMetric, MetricEncoder, NoLabelSet,
};
use wharf_server::prometheus_client::metrics::counter::ConstCounter;
use wharf_server::prometheus_client::metrics::MetricType;
use wharf_storage::metered::{ObjectStoreMetrics, OperationFigures, Outcome};

/// The requests of the blob store, when it is an object store.
#[derive(Debug)]
pub struct ObjectStoreRequests {
    metrics: ObjectStoreMetrics,
}

impl ObjectStoreRequests {
    /// Reports `metrics`.
    pub fn new(metrics: ObjectStoreMetrics) -> Self {
        ObjectStoreRequests { metrics }
    }
}

impl Collector for ObjectStoreRequests {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), fmt::Error> {
        let figures = self.metrics.snapshot();
        // Only the operations this registry has used: the others (renames,
        // say) would be a dozen series of zeros.
        let used: Vec<_> = figures
            .operations
            .iter()
            .filter(|op| op.total() > 0)
            .collect();

        let mut family = encoder.encode_descriptor(
            "wharf_object_store_requests",
            "Requests to the object store holding the blobs, by operation and outcome",
            None,
            MetricType::Counter,
        )?;
        for op in &used {
            for outcome in Outcome::ALL {
                let labels = [
                    ("operation", op.operation.as_str()),
                    ("outcome", outcome.as_str()),
                ];
                ConstCounter::new(op.requests(outcome)).encode(family.encode_family(&labels)?)?;
            }
        }
        let mut family = encoder.encode_descriptor(
            "wharf_object_store_bytes",
            "Bytes sent to the object store (puts and parts) and received from it (GET bodies)",
            None,
            MetricType::Counter,
        )?;
        for (direction, bytes) in [
            ("sent", figures.bytes_sent),
            ("received", figures.bytes_received),
        ] {
            ConstCounter::new(bytes).encode(family.encode_family(&[("direction", direction)])?)?;
        }
        let mut family = encoder.encode_descriptor(
            "wharf_object_store_request_seconds",
            "Time of object-store requests until the store's answer, by operation",
            None,
            MetricType::Histogram,
        )?;
        for op in &used {
            let labels = [("operation", op.operation.as_str())];
            Seconds(op).encode(family.encode_family(&labels)?)?;
        }
        Ok(())
    }
}

/// One operation's request-time histogram.
struct Seconds<'a>(&'a OperationFigures);

impl EncodeMetric for Seconds<'_> {
    fn encode(&self, mut encoder: MetricEncoder<'_>) -> Result<(), fmt::Error> {
        let buckets: Vec<(f64, u64)> = self.0.seconds_buckets().collect();
        let count = buckets.iter().map(|(_, n)| n).sum();
        encoder.encode_histogram::<NoLabelSet>(self.0.seconds_sum, count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use object_store::memory::InMemory;
    use object_store::path::Path;
    use object_store::ObjectStoreExt;
    use wharf_server::prometheus_client::registry::Registry;
    use wharf_storage::metered::MeteredStore;

    use super::*;

    #[tokio::test]
    async fn requests_bytes_and_times_are_reported_by_operation(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let store = MeteredStore::new(Arc::new(InMemory::new()));
        store.put(&Path::from("a"), "hello".into()).await?;
        store.get(&Path::from("a")).await?.bytes().await?;
        assert!(store.get(&Path::from("b")).await.is_err());

        let mut registry = Registry::default();
        registry.register_collector(Box::new(ObjectStoreRequests::new(store.metrics().clone())));
        let mut text = String::new();
        wharf_server::prometheus_client::encoding::text::encode(&mut text, &registry)?;
        for line in [
            "wharf_object_store_requests_total{operation=\"put\",outcome=\"ok\"} 1",
            "wharf_object_store_requests_total{operation=\"get\",outcome=\"ok\"} 1",
            "wharf_object_store_requests_total{operation=\"get\",outcome=\"not_found\"} 1",
            "wharf_object_store_bytes_total{direction=\"sent\"} 5",
            "wharf_object_store_bytes_total{direction=\"received\"} 5",
            "wharf_object_store_request_seconds_count{operation=\"get\"} 2",
            "wharf_object_store_request_seconds_bucket{le=\"+Inf\",operation=\"put\"} 1",
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
        assert!(
            !text.contains("operation=\"rename\""),
            "unused operations are left out"
        );
        Ok(())
    }
}
