"""Usage sources behind one protocol: Prometheus HTTP API, the Kubernetes metrics API, recorded series."""

from tools.cost.usage.base import ContainerRef, ContainerUsage, UsageError, UsageSource, pod_pattern
from tools.cost.usage.metrics_api import MetricsApiUsageSource
from tools.cost.usage.prometheus import PrometheusUsageSource, cpu_query, memory_query, oom_query
from tools.cost.usage.recorded import RecordedSeries, RecordedUsageSource

__all__ = [
    "ContainerRef",
    "ContainerUsage",
    "MetricsApiUsageSource",
    "PrometheusUsageSource",
    "RecordedSeries",
    "RecordedUsageSource",
    "UsageError",
    "UsageSource",
    "cpu_query",
    "memory_query",
    "oom_query",
    "pod_pattern",
]
