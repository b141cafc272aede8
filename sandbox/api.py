"""The Kubernetes REST API over the cluster: routing, authentication, RBAC, CRUD, watch and subresources."""

from __future__ import annotations

import base64
import dataclasses
import json
import traceback
from collections.abc import Callable
from typing import Any

import yaml  # type: ignore[import-untyped]

from sandbox import discovery, reviews, subresources, tables
from sandbox.auth import TokenAuthenticator
from sandbox.cluster import Cluster
from sandbox.conversion import from_storage, storage_of, to_storage
from sandbox.errors import ApiError, bad_request, forbidden, status_success
from sandbox.http import Request, Response, json_response
from sandbox.patch import apply_patch
from sandbox.rbac import Attributes, Authorizer, User, forbidden_message
from sandbox.resources import RESOURCES, ResourceType, find_resource, group_versions
from sandbox.selectors import parse_field_selector, parse_label_selector
from sandbox.watch import watch_stream

__all__ = ["Api", "ExtraRoute"]

ExtraRoute = Callable[[Request], Response]
_STREAMING = ("exec", "attach", "portforward")
_NOT_FOUND = {
    "kind": "Status",
    "apiVersion": "v1",
    "metadata": {},
    "status": "Failure",
    "message": "the server could not find the requested resource",
    "reason": "NotFound",
    "details": {},
    "code": 404,
}


RETURNS_DELETED_OBJECT = frozenset(
    {
        "pods",
        "podtemplates",
        "services",
        "serviceaccounts",
        "persistentvolumes",
        "persistentvolumeclaims",
        "resourcequotas",
        "storageclasses.storage.k8s.io",
        "volumeattachments.storage.k8s.io",
        "csidrivers.storage.k8s.io",
        "csinodes.storage.k8s.io",
        "volumeattributesclasses.storage.k8s.io",
    }
)
"""Kinds whose DELETE answers the deleted object: the registries built with `ReturnDeletedObject: true`
(the OpenAPI spec's 200 response of their delete operation is the kind itself). Every other kind answers
a `Status` with `status: Success` and the object's name, group, resource and uid."""


def _wants_yaml(accept: str) -> bool:
    """`Accept: application/yaml` first (kubectl and curl users ask for it); a Table or JSON wins otherwise."""
    first = accept.split(",")[0].split(";")[0].strip().lower()
    return first in ("application/yaml", "application/x-yaml", "text/yaml")


def _as_yaml(response: Response) -> Response:
    if (
        response.stream is not None
        or response.upgrade is not None
        or response.content_type != "application/json"
        or len(response.body) > _PROTOBUF_MAX_JSON
    ):
        return response
    try:
        data = json.loads(response.body)
    except ValueError:
        return response
    text = yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
    return Response(response.status, text.encode(), "application/yaml", headers=response.headers)


_PROTOBUF_MAX_JSON = 256 * 1024
"""Larger answers stay JSON (the client accepts it too): the pure-Python encoder takes ~2 ms a pod."""


def _as_protobuf(response: Response) -> Response:
    """Built-in objects in the protobuf encoding for clients that ask for it first (client-go's clientset
    from 1.32 on asks `application/vnd.kubernetes.protobuf,application/json`); JSON for the rest."""
    if (
        response.stream is not None
        or response.upgrade is not None
        or response.content_type != "application/json"
        or len(response.body) > _PROTOBUF_MAX_JSON
    ):
        return response
    from sandbox import protobuf

    try:
        body = protobuf.encode(json.loads(response.body))
    except (ValueError, TypeError, KeyError, AttributeError):
        return response  # not a built-in kind (or not encodable): JSON, which the client also accepts
    if body is None:
        return response
    return Response(response.status, body, protobuf.MEDIA_TYPE, headers=response.headers)


class Api:
    """Answers one request; `extra_routes` (path prefix → handler) serve metrics and Prometheus."""

    def __init__(
        self, cluster: Cluster, authenticator: TokenAuthenticator, address: str = "127.0.0.1"
    ) -> None:
        self.cluster = cluster
        self.authenticator = authenticator
        self.authorizer = Authorizer(cluster.store)
        self.address = address
        self.public_routes: dict[str, ExtraRoute] = {}
        self.group_routes: dict[str, Callable[[Request, User, str, str, str, str], Response]] = {}
        self._openapi_cache: dict[str, Any] = {}
        self.reset_hook: Callable[[str], Cluster] | None = None
        """Builds a fresh cluster in a named scenario, for `POST /sandbox/reset` (set by sandbox.app)."""

    def handle(self, req: Request) -> Response:
        try:
            response = self._handle(req)
        except ApiError as exc:
            response = json_response(exc.code, exc.status())
        except Exception as exc:  # a sandbox bug answers 500 like an apiserver panic, and keeps serving
            traceback.print_exc()
            response = json_response(
                500, ApiError(500, "InternalError", f"Internal error occurred: {exc!r}").status()
            )
        accept = req.header("Accept")
        if _wants_yaml(accept):
            return _as_yaml(response)
        if accept.split(",")[0].strip() == "application/vnd.kubernetes.protobuf":
            return _as_protobuf(response)
        return response

    # routing -----------------------------------------------------------------------------------
    def _handle(self, req: Request) -> Response:
        path = "/" + req.path.strip("/")
        if path in ("/healthz", "/livez", "/readyz"):
            return Response(200, b"ok", "text/plain")
        if path == "/version" and not req.header("Authorization"):
            # anonymous requests may read the version (system:public-info-viewer), as on a real apiserver
            return json_response(200, discovery.version_info())
        for prefix, handler in self.public_routes.items():
            if path.startswith(prefix):
                return handler(req)
        user = self.authenticator.authenticate(req.header("Authorization"))
        user = self.authenticator.impersonate(
            user,
            req.header("Impersonate-User"),
            [g.strip() for g in req.header("Impersonate-Group").split(",") if g.strip()],
        )
        parts = [p for p in path.split("/") if p]
        if not parts or parts[0] not in ("api", "apis") or len(parts) <= (1 if parts[0] == "api" else 2):
            return self._non_resource(req, user, path, parts)
        if parts[0] == "api":
            group, version, rest = "", parts[1], parts[2:]
        else:
            group, version, rest = parts[1], parts[2], parts[3:]
        custom = list(self.cluster.store.custom.values())
        if not rest:
            self._authorize_path(user, path)
            doc = discovery.api_resource_list(group, version, custom)
            return json_response(200, doc) if doc else json_response(404, _NOT_FOUND)
        namespace = ""
        if rest[0] == "namespaces" and len(rest) >= 3:
            inner = find_resource(group, version, rest[2], custom)
            if inner is not None and inner.namespaced:
                namespace, rest = rest[1], rest[2:]
        rt = find_resource(group, version, rest[0], custom)
        if rt is None or len(rest) > 3 or (namespace and not rt.namespaced):
            return json_response(404, _NOT_FOUND)
        name = rest[1] if len(rest) > 1 else ""
        sub = rest[2] if len(rest) > 2 else ""
        if sub and sub not in rt.subresources:
            return json_response(404, _NOT_FOUND)
        # exec, attach and port-forward are "create" also over a WebSocket's GET, as since Kubernetes 1.31
        verb = "create" if sub in _STREAMING else self._verb(req, name)
        self._authorize(user, Attributes(verb, group, rt.plural, sub, namespace, name))
        from sandbox import writes  # the write path's schemas load on first use, not at start-up

        writes.check_dry_run(req, verb)
        warnings: list[str] = []
        reviews_group = (
            group in ("authorization.k8s.io", "authentication.k8s.io") or group in self.group_routes
        )
        if verb in ("create", "update", "patch") and sub in ("", "status") and not reviews_group:
            body = req.json()
            pruned, warnings = writes.drop_unknown_fields(req, rt, self.cluster.store, body)
            if pruned:
                req = dataclasses.replace(req, body=json.dumps(body).encode())
        response = self._dispatch(req, user, rt, verb, group, namespace, name, sub)
        if warnings:
            response.headers["Warning"] = ", ".join(warnings)
        return response

    def _dispatch(
        self,
        req: Request,
        user: User,
        rt: ResourceType,
        verb: str,
        group: str,
        namespace: str,
        name: str,
        sub: str,
    ) -> Response:
        if group == "authentication.k8s.io" or sub == "token":
            from sandbox import identity

            if sub == "token":
                return identity.token_request(self.cluster, self.authenticator, req, namespace, name)
            return identity.self_subject_review(user)
        if group in self.group_routes:
            return self.group_routes[group](req, user, rt.plural, namespace, name, verb)
        if group == "authorization.k8s.io":
            return reviews.review(self.authorizer, rt, req, user, namespace)
        if sub in ("exec", "attach"):
            from sandbox import remote  # the streaming protocols load on first use

            return remote.handle(self.cluster, req, namespace, name, sub)
        if sub == "portforward":
            from sandbox import portforward

            return portforward.handle(self.cluster, req, namespace, name)
        if sub and sub != "status":
            return subresources.handle(self.cluster, rt, req, namespace, name, sub)
        if rt.storage_version:
            return self._converted(req, rt, verb, namespace, name, sub)
        return self._crud(req, rt, verb, namespace, name, sub)

    def _converted(
        self, req: Request, rt: ResourceType, verb: str, namespace: str, name: str, sub: str
    ) -> Response:
        """A version served by conversion: bodies in go to the stored version, objects out come back."""
        stored_rt = storage_of(rt, self.cluster.store.custom.values())
        cluster = self.cluster
        if verb == "patch":
            with cluster.store.lock:
                current = from_storage(rt, cluster.store.get(stored_rt, namespace, name))
                body = req.json()
                patched = apply_patch(req.header("Content-Type"), current, body)
                out = cluster.update(
                    stored_rt,
                    to_storage(rt, patched),
                    namespace=namespace,
                    name=name,
                    subresource=sub,
                    dry_run=req.dry_run,
                )
            return json_response(200, from_storage(rt, out))
        if verb in ("create", "update"):
            body = to_storage(rt, req.json() or {})
            req = Request(
                req.method,
                req.path,
                req.query,
                {**req.headers, "Content-Type": "application/json"},
                json.dumps(body).encode(),
            )
        if verb == "watch":
            return Response(
                200,
                stream=watch_stream(
                    cluster.store, stored_rt, req, namespace, name, convert=lambda o: from_storage(rt, o)
                ),
            )
        response = self._crud(req, stored_rt, verb, namespace, name, sub)
        if response.status >= 300 or verb in ("delete", "deletecollection"):
            return response
        data = json.loads(response.body)
        if data.get("kind", "").endswith("List"):
            data["apiVersion"] = rt.api_version
            data["items"] = [from_storage(rt, o) for o in data.get("items") or []]
        elif data.get("kind") != "Table":
            data = from_storage(rt, data)
        return json_response(response.status, data)

    def _reset(self, req: Request, user: User) -> Response:
        """Replace the whole cluster with a fresh one in a scenario (admins only; the sandbox's own API)."""
        if "system:masters" not in user.groups:
            raise forbidden(f'User "{user.name}" cannot reset the sandbox: only system:masters may')
        if req.method != "POST" or self.reset_hook is None:
            raise ApiError(405, "MethodNotAllowed", 'POST /sandbox/reset with {"scenario": NAME}')
        scenario = str((req.json() or {}).get("scenario") or "default")
        try:
            fresh = self.reset_hook(scenario)
        except ValueError as exc:
            raise bad_request(str(exc)) from exc
        with self.cluster.store.lock:
            self.cluster = fresh
            self.authorizer = Authorizer(fresh.store)
        return json_response(
            200,
            {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Success",
                "message": f"reset to scenario {scenario}",
            },
        )

    def _non_resource(self, req: Request, user: User, path: str, parts: list[str]) -> Response:
        if path == "/sandbox/reset":
            return self._reset(req, user)
        self._authorize_path(user, path)
        if path == "/version":
            return json_response(200, discovery.version_info())
        if path == "/api":
            return json_response(200, discovery.api_versions(self.address))
        custom = list(self.cluster.store.custom.values())
        if path == "/apis":
            return json_response(200, discovery.api_group_list(custom))
        if len(parts) == 2 and parts[0] == "apis":
            doc = discovery.api_group(parts[1], custom)
            return json_response(200, doc) if doc else json_response(404, _NOT_FOUND)
        if path.startswith("/openapi/"):
            return self._openapi(req, path, custom)
        return json_response(404, _NOT_FOUND)

    def _openapi(self, req: Request, path: str, custom: list[ResourceType]) -> Response:
        """The OpenAPI documents, built on first request and cached until the CRDs change."""
        from sandbox import openapi

        schemas = {
            openapi.definition_name(rt) or "": self.cluster.store.schemas.get(
                f"{rt.group}/{rt.version}/{rt.kind}", {}
            )
            for rt in custom
        }
        key = json.dumps([repr(sorted(custom, key=repr)), schemas], sort_keys=True, default=str)
        cache = self._openapi_cache
        if cache.get("key") != key:
            cache.clear()
            cache["key"] = key
        if path == "/openapi/v2":
            if "protobuf" in req.header("Accept"):
                if "v2pb" not in cache:
                    from sandbox.openapi_pb import definitions_message

                    document = openapi.v2_document([*RESOURCES, *custom], schemas)
                    cache["v2pb"] = discovery.openapi_v2_protobuf(
                        custom, definitions_message(document["definitions"])
                    )
                return Response(200, cache["v2pb"], "application/octet-stream")
            if "v2" not in cache:
                cache["v2"] = json.dumps(openapi.v2_document([*RESOURCES, *custom], schemas)).encode()
            return Response(200, cache["v2"])
        types = [*RESOURCES, *custom]
        if path == "/openapi/v3":
            if "v3" not in cache:
                cache["v3"] = json.dumps(openapi.v3_index(group_versions(custom), types, schemas)).encode()
            return Response(200, cache["v3"])
        parts = path.split("/")[3:]
        group, version = (
            ("", parts[1])
            if parts[:1] == ["api"] and len(parts) == 2
            else ((parts[1], parts[2]) if parts[:1] == ["apis"] and len(parts) == 3 else ("", ""))
        )
        doc = openapi.v3_document(group, version, types, schemas) if version else None
        if doc is None:
            return json_response(404, _NOT_FOUND)
        return json_response(200, doc)

    @staticmethod
    def _verb(req: Request, name: str) -> str:
        method = req.method.upper()
        if method in ("GET", "HEAD"):
            if req.flag("watch"):
                return "watch"
            return "get" if name else "list"
        return {
            "POST": "create",
            "PUT": "update",
            "PATCH": "patch",
            "DELETE": "delete" if name else "deletecollection",
        }.get(method, "unknown")

    def _authorize(self, user: User, attrs: Attributes) -> None:
        allowed, _ = self.authorizer.allowed(user, attrs)
        if not allowed:
            resource = attrs.resource
            qualified = f"{resource}.{attrs.api_group}" if attrs.api_group else resource
            raise forbidden(forbidden_message(user, attrs), qualified, attrs.name)

    def _authorize_path(self, user: User, path: str) -> None:
        attrs = Attributes("get", path=path)
        if not self.authorizer.allowed(user, attrs)[0]:
            raise forbidden(forbidden_message(user, attrs))

    # CRUD --------------------------------------------------------------------------------------
    def _crud(
        self, req: Request, rt: ResourceType, verb: str, namespace: str, name: str, sub: str
    ) -> Response:
        cluster = self.cluster
        if verb == "get":
            obj = cluster.store.get(rt, namespace, name)
            return self._render(req, rt, obj)
        if verb == "list":
            return self._list(req, rt, namespace)
        if verb == "watch":
            return Response(
                200,
                stream=watch_stream(cluster.store, rt, req, namespace, name),
                content_type="application/json",
            )
        if verb == "create":
            if name:
                return json_response(
                    405,
                    {
                        **_NOT_FOUND,
                        "code": 405,
                        "reason": "MethodNotAllowed",
                        "message": "the server does not allow this method on the requested resource",
                    },
                )
            created = cluster.create(rt, req.json() or {}, namespace=namespace, dry_run=req.dry_run)
            return json_response(201, created)
        if verb == "update":
            return json_response(
                200,
                cluster.update(
                    rt, req.json() or {}, namespace=namespace, name=name, subresource=sub, dry_run=req.dry_run
                ),
            )
        if verb == "patch":
            body = req.json()
            if body is None:
                raise bad_request("the patch body is empty")
            return json_response(
                200,
                cluster.patch(
                    rt,
                    namespace,
                    name,
                    req.header("Content-Type"),
                    body,
                    subresource=sub,
                    dry_run=req.dry_run,
                ),
            )
        if verb == "delete":
            options = req.json() or {}
            dry = req.dry_run or "All" in (options.get("dryRun") or [])
            preconditions = options.get("preconditions") or {}
            policy = req.query.get("propagationPolicy") or options.get("propagationPolicy") or "Background"
            if options.get("orphanDependents") is True:
                policy = "Orphan"
            gone = cluster.delete(
                rt,
                namespace,
                name,
                dry_run=dry,
                propagation=policy,
                uid=preconditions.get("uid"),
                resource_version=preconditions.get("resourceVersion"),
            )
            held = gone["metadata"].get("finalizers") or rt.kind == "Namespace"
            if rt.qualified in RETURNS_DELETED_OBJECT or (held and not dry):
                return json_response(200, gone)  # an object that is not gone yet is returned, as upstream
            return json_response(200, status_success(rt.qualified, name, gone["metadata"].get("uid", "")))
        if verb == "deletecollection":
            for obj in self._select(req, rt, namespace):
                cluster.delete(
                    rt, obj["metadata"].get("namespace", ""), obj["metadata"]["name"], dry_run=req.dry_run
                )
            return json_response(
                200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
            )
        raise ApiError(
            405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
        )

    def _select(self, req: Request, rt: ResourceType, namespace: str) -> list[dict[str, Any]]:
        labels = parse_label_selector(req.query.get("labelSelector"))
        fields = parse_field_selector(req.query.get("fieldSelector"), rt.kind)
        with self.cluster.store.lock:
            items = self.cluster.store.list(rt, namespace or None)
        return [o for o in items if labels(o) and fields(o)]

    def _list(self, req: Request, rt: ResourceType, namespace: str) -> Response:
        with self.cluster.store.lock:
            items = self._select(req, rt, namespace)
            rv = str(self.cluster.store.rv)
        meta: dict[str, Any] = {"resourceVersion": rv}
        limit = int(req.query.get("limit") or 0)
        start = 0
        token = req.query.get("continue")
        if token:
            try:
                start = int(json.loads(base64.urlsafe_b64decode(token.encode()))["start"])
            except (ValueError, KeyError, TypeError) as exc:
                raise bad_request("continue key is not valid") from exc
        if limit and start + limit < len(items):
            meta["continue"] = base64.urlsafe_b64encode(
                json.dumps({"start": start + limit, "rv": rv}).encode()
            ).decode()
            meta["remainingItemCount"] = len(items) - start - limit
            items = items[start : start + limit]
        elif start:
            items = items[start:]
        if tables.wants_table(req.header("Accept")):
            return json_response(200, tables.to_table(rt, items, meta, req.query.get("includeObject", "")))
        encode = self.cluster.store.encoded
        head = json.dumps({"kind": f"{rt.kind}List", "apiVersion": rt.api_version, "metadata": meta})[:-1]
        body = head.encode() + b',"items":[' + b",".join(encode(o) for o in items) + b"]}"
        return Response(200, body)

    def _render(self, req: Request, rt: ResourceType, obj: dict[str, Any]) -> Response:
        if tables.wants_table(req.header("Accept")):
            return json_response(
                200,
                tables.to_table(
                    rt,
                    [obj],
                    {"resourceVersion": obj["metadata"].get("resourceVersion", "")},
                    req.query.get("includeObject", ""),
                ),
            )
        return Response(200, self.cluster.store.encoded(obj))
