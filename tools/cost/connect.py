"""Where the cost tools get their data: the cluster of the tool context, and a usage source for it.

Usage comes from the Prometheus HTTP API at `prometheus_url` (tool-context extra `prometheus_url`, or the env
var OPSGRAPH_PROMETHEUS_URL), by default at the cluster's API server address (which the sandbox serves);
when that fails the metrics API is tried; a recorded file can be given instead (`usage_file`).
"""

from __future__ import annotations

import os
import ssl
from datetime import timedelta
from typing import Any

from tools.base import ToolContext
from tools.cost.catalog import PriceCatalog, load_overrides
from tools.cost.usage import (
    ContainerRef,
    ContainerUsage,
    MetricsApiUsageSource,
    PrometheusUsageSource,
    RecordedUsageSource,
    UsageError,
    UsageSource,
)

__all__ = ["FallbackUsageSource", "api_client_for", "catalog_for", "usage_source_for"]


def api_client_for(ctx: ToolContext) -> Any:
    from kubernetes import config

    return config.new_client_from_config(  # type: ignore[no-untyped-call]
        config_file=str(ctx.kubeconfig) if ctx.kubeconfig else None, context=ctx.kube_context
    )


class FallbackUsageSource:
    """Prometheus first; the metrics API for a container Prometheus cannot answer."""

    name = "prometheus+metrics-api"

    def __init__(self, primary: UsageSource, fallback: UsageSource) -> None:
        self.primary, self.fallback = primary, fallback

    def container_usage(self, ref: ContainerRef, history: timedelta, step: timedelta) -> ContainerUsage:
        try:
            usage = self.primary.container_usage(ref, history, step)
            if usage.points():
                return usage
        except UsageError:
            pass
        return self.fallback.container_usage(ref, history, step)


def usage_source_for(ctx: ToolContext, api_client: Any) -> UsageSource:
    recorded = ctx.extras.get("usage_file")
    if recorded:
        return RecordedUsageSource(ctx.setting_path(str(recorded)))
    cfg = api_client.configuration
    url = ctx.extras.get("prometheus_url") or os.environ.get("OPSGRAPH_PROMETHEUS_URL") or cfg.host
    headers: dict[str, str] = {}
    verify: ssl.SSLContext | bool = True
    if url.startswith(cfg.host):  # the API server (or the sandbox) itself: reuse the kubeconfig's credentials
        for auth in cfg.auth_settings().values():
            if auth.get("in") == "header" and auth.get("value"):
                headers[auth["key"]] = auth["value"]
        if url.startswith("https"):
            verify = ssl.create_default_context(cafile=cfg.ssl_ca_cert) if cfg.verify_ssl else False
            if cfg.cert_file and isinstance(verify, ssl.SSLContext):
                verify.load_cert_chain(cfg.cert_file, cfg.key_file)
    return FallbackUsageSource(
        PrometheusUsageSource(url, headers=headers, verify=verify), MetricsApiUsageSource(api_client)
    )


def catalog_for(ctx: ToolContext, cloud: str | None = None, region: str | None = None) -> PriceCatalog:
    """The catalog, with price overrides from the context extra `cost_prices` (the layer that builds the
    context sets it from the `cost_prices` setting: `agents.tool_context`, the cost CLI)."""
    path = ctx.extras.get("cost_prices")
    from tools.cost.commitments import load_commitments

    file = ctx.setting_path(str(path)) if path else None
    return PriceCatalog(
        cloud or str(ctx.extras.get("cloud", "aws")),
        region or str(ctx.extras.get("region", "us-east-1")),
        load_overrides(file) if file else [],
        load_commitments(file) if file else [],
    )
