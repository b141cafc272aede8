"""PromQL queries (instant and range) through the cluster's Prometheus HTTP API.

Where Prometheus is: the tool-context extra `prometheus_url` or OPSGRAPH_PROMETHEUS_URL when set (as the
cost tools read it); otherwise the API server's own address (the sandbox serves the API there), and when
that answers 404, a Prometheus Service found in the cluster, reached through the API server's service
proxy with the kubeconfig's credentials (`/api/v1/namespaces/NS/services/NAME:PORT/proxy`).
"""

from __future__ import annotations

import math
import os
import time
from typing import Any

import httpx

from tools.kubernetes.access import KubeAccess, KubeError
from tools.kubernetes.render import as_data

__all__ = ["MetricsError", "Prometheus", "format_result"]

_PREFERRED = ("prometheus-k8s", "prometheus-operated", "prometheus-server", "prometheus")
_MAX_SERIES = 20


class MetricsError(Exception):
    """Prometheus could not be reached or rejected the query (its message says why)."""


class Prometheus:
    """One cluster's Prometheus; the base path is found on the first query and kept."""

    def __init__(self, access: KubeAccess, url: str | None = None) -> None:
        self.access = access
        self.url = (url or os.environ.get("OPSGRAPH_PROMETHEUS_URL") or "").rstrip("/")
        self._base: str | None = None

    def _discover(self) -> str:
        services = self.access.request("GET", "/api/v1/services").get("items", [])
        found = []
        for svc in services:
            name, ns = svc["metadata"]["name"], svc["metadata"]["namespace"]
            ports = (svc.get("spec") or {}).get("ports") or []
            port = next(
                (p for p in ports if p.get("port") == 9090 or p.get("name") in ("web", "http-web")), None
            )
            if "prometheus" in name and port is not None and "alertmanager" not in name:
                rank = next((n for n, p in enumerate(_PREFERRED) if name.endswith(p)), len(_PREFERRED))
                found.append((rank, ns, name, port.get("name") or port.get("port")))
        if not found:
            raise MetricsError(
                "no Prometheus: the API server does not serve the Prometheus API and no Service named "
                "prometheus* with port 9090 exists; set OPSGRAPH_PROMETHEUS_URL"
            )
        _, ns, name, port = min(found)
        return f"/api/v1/namespaces/{ns}/services/{name}:{port}/proxy"

    def _get(self, base: str, endpoint: str, params: dict[str, str]) -> Any:
        try:
            return self.access.request("GET", f"{base}{endpoint}", params)
        except KubeError as exc:
            if exc.status.get("status") == "error":  # Prometheus's own error body
                raise MetricsError(
                    f"{exc.status.get('errorType', '')}: {exc.status.get('error', '')}"
                ) from exc
            raise

    def query(self, endpoint: str, params: dict[str, str]) -> dict[str, Any]:
        """The `data` of a Prometheus API answer; MetricsError with Prometheus's message otherwise."""
        if self.url:
            try:
                resp = httpx.get(f"{self.url}{endpoint}", params=params, timeout=30)
                body = resp.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise MetricsError(f"{self.url}{endpoint}: {type(exc).__name__}: {exc}") from exc
        else:
            if self._base is None:
                try:
                    body = self._get("", endpoint, params)
                    self._base = ""
                except KubeError as exc:
                    if exc.code != 404:
                        raise MetricsError(f"{endpoint}: {exc.code} {exc.reason}: {exc.message}") from exc
                    self._base = self._discover()
                    body = self._get(self._base, endpoint, params)
            else:
                body = self._get(self._base, endpoint, params)
        if not isinstance(body, dict) or body.get("status") != "success":
            error = body.get("error", body) if isinstance(body, dict) else body
            raise MetricsError(f"Prometheus: {error}")
        data: dict[str, Any] = body.get("data") or {}
        return data

    def instant(self, promql: str) -> dict[str, Any]:
        return self.query("/api/v1/query", {"query": promql})

    def range(self, promql: str, minutes: int, step_s: int) -> dict[str, Any]:
        end = time.time()
        step = step_s or max(15, minutes * 60 // 60)
        params = {
            "query": promql,
            "start": f"{end - minutes * 60:.3f}",
            "end": f"{end:.3f}",
            "step": f"{step}s",
        }
        return self.query("/api/v1/query_range", params)


def _labels(metric: dict[str, str]) -> str:
    name = metric.get("__name__", "")
    rest = ",".join(f'{k}="{v}"' for k, v in sorted(metric.items()) if k != "__name__")
    return f"{name}{{{rest}}}" if rest or not name else name


def _num(text: Any) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


def _fmt(x: float) -> str:
    return "NaN" if math.isnan(x) else f"{x:.4g}"


def format_result(promql: str, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The model's text (series fenced: their labels come from the cluster) and the artifact."""
    kind, result = data.get("resultType", ""), data.get("result")
    artifact: dict[str, Any] = {"kind": "kubernetes.metrics", "query": promql, "type": kind, "series": []}
    if kind in ("scalar", "string"):
        value = result[1] if isinstance(result, list) and len(result) == 2 else result
        number = _num(value)
        artifact["series"] = [{"labels": {}, "value": None if math.isnan(number) else number}]
        return f"{kind} result of {promql}: {value}", artifact
    rows: list[dict[str, Any]] = []
    for s in result or []:
        metric = s.get("metric") or {}
        if kind == "matrix":
            values = [_num(v) for _, v in s.get("values") or []]
            finite = [v for v in values if not math.isnan(v)] or [math.nan]
            rows.append(
                {
                    "labels": metric,
                    "min": min(finite),
                    "avg": sum(finite) / len(finite),
                    "max": max(finite),
                    "last": values[-1] if values else math.nan,
                    "points": len(values),
                }
            )
        else:
            rows.append({"labels": metric, "value": _num((s.get("value") or [0, "NaN"])[1])})
    key = "max" if kind == "matrix" else "value"
    rows.sort(key=lambda r: -r[key] if not math.isnan(r[key]) else math.inf)
    artifact["series"] = [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
        for r in rows[:_MAX_SERIES]
    ]
    artifact["total"] = len(rows)
    if not rows:
        return f"no series match {promql} ({kind or 'empty'} result)", artifact
    if kind == "matrix":
        lines = [
            f"{_labels(r['labels'])}  min={_fmt(r['min'])} avg={_fmt(r['avg'])} max={_fmt(r['max'])} "
            f"last={_fmt(r['last'])} ({r['points']} points)"
            for r in rows[:_MAX_SERIES]
        ]
    else:
        lines = [f"{_labels(r['labels'])}  {_fmt(r['value'])}" for r in rows[:_MAX_SERIES]]
    more = f" (showing the top {_MAX_SERIES} by value)" if len(rows) > _MAX_SERIES else ""
    head = f"{len(rows)} series for {promql} ({kind}){more}:"
    return head + "\n" + as_data(f"Prometheus: {promql}", "\n".join(lines)), artifact
