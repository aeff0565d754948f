"""The render cache: one render per distinct input, shared by whoever asks again.

``channelctl.plan.render.render_stack`` answers from ``RENDER_CACHE`` when it is
enabled. This module does not import the renderer: ``render_stack`` hands
``cached_render`` the function that renders and the region's endpoint services
(``ENDPOINT_SERVICE_ZONE_IDS``), so the renderer and its cache import in one
direction only. ``render_store`` holds the directory that processes share.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from channelctl.accounts.facts import Facts
from channelctl.plan import render_store

Renderer = Callable[..., Any]
"""``_render_uncached`` of ``channelctl.plan.render``: the same arguments as ``render_stack``,
returning a ``RenderedStack``."""


@dataclass
class _CachedRender:
    rendered: Any
    """The ``RenderedStack``, never handed out itself: a hit returns a deep copy."""
    peer_lookups: list[str]
    """The stack references the render looked up, in order: replayed on a hit, so a caller's
    peers mapping sees the same look-ups (``channelctl plan`` records unknown ones)."""
    endpoint_services: dict[str, tuple[str, ...]]
    """What the render added to ENDPOINT_SERVICE_ZONE_IDS: replayed on a hit, as the region keeps it."""


class _RecordingPeers(Mapping[str, Mapping[str, Any]]):
    def __init__(self, peers: Mapping[str, Mapping[str, Any]]):
        self.peers = peers
        self.lookups: list[str] = []

    def get(self, key: Any, default: Any = None) -> Any:
        self.lookups.append(str(key))
        return self.peers.get(key, default)

    def __getitem__(self, key: str) -> Mapping[str, Any]:
        self.lookups.append(str(key))
        return self.peers[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.peers)

    def __len__(self) -> int:
        return len(self.peers)


class RenderCache:
    """Renders kept by everything that decides them: the content of the program's code (the
    project's Python files, wherever the directory is: a copy of the project with the same code and
    the same config renders the same), the stack, its config, the peers' exports, preview, the
    quotas and the account's facts (their content). Stack files and facts files are not read by
    the program; their content reaches the key as ``config`` and ``facts``. Nothing else is: a
    caller that changes the mocks' answers some other way (a test patching ``ChannelMocks``) turns
    the cache off for itself.

    A render takes about a second; many callers (the test suite above all) ask for the same
    one again. A hit returns a deep copy, so a caller that changes what it got changes nothing
    for the next. Off unless ``enable()`` is called; at most ``max_entries`` renders are kept,
    least recently used first out. With a ``directory``, processes that enable the cache on the
    same directory share their renders (``render_store``).
    """

    def __init__(self, max_entries: int = 512):
        self.enabled = False
        self.max_entries = max_entries
        self.entries: OrderedDict[str, _CachedRender] = OrderedDict()
        self.directory: Path | None = None
        self.hits = 0
        self.misses = 0

    def enable(self, directory: Path | str | None = None) -> None:
        self.enabled = True
        self.directory = Path(directory) if directory is not None else None

    def clear(self) -> None:
        self.entries.clear()
        self.hits = self.misses = 0

    @staticmethod
    def key(project_dir: Path, stack: str, config: Mapping[str, Any], *, project: str,
            peers: Mapping[str, Mapping[str, Any]], preview: bool,
            service_quotas: Mapping[tuple[str, str], float] | None, facts: Facts | None = None) -> str:
        exports = {str(name): peers[name] for name in peers}
        quotas = sorted((f"{s}/{c}", v) for (s, c), v in service_quotas.items()) if service_quotas is not None else None
        known = facts.to_json() if facts is not None else None
        parts = [_fingerprint(project_dir), project, stack, preview, quotas, config, exports, known]
        return hashlib.sha256(json.dumps(parts, sort_keys=True, default=repr).encode()).hexdigest()


RENDER_CACHE = RenderCache()

# What the program reads from the project directory: its Python code (``__main__.py``, the
# components, the authorizer's code it packages). Tests, benchmarks and the like are not.
_FINGERPRINT_SKIP = {".git", ".venv", "__pycache__", "tests", "benchmarks", "docs", ".pytest_cache", ".hypothesis",
                     "facts", ".github", ".ci"}
# A file's content digest by (real path, size, modification time): read once while unchanged.
_DIGESTS: dict[tuple[str, int, int], str] = {}


def _fingerprint(project_dir: Path) -> str:
    """The digest of the program's code under ``project_dir``, by relative path and content
    (symbolic links followed: a copy of the project may link to the original's folders)."""
    entries: list[str] = []
    for directory, folders, files in os.walk(project_dir, followlinks=True):
        folders[:] = sorted(f for f in folders if f not in _FINGERPRINT_SKIP and not f.endswith(".egg-info"))
        for name in files:
            if not name.endswith(".py"):
                continue
            path = os.path.join(directory, name)
            real = os.path.realpath(path)
            info = os.stat(real)
            marker = (real, info.st_size, info.st_mtime_ns)
            digest = _DIGESTS.get(marker)
            if digest is None:
                with open(real, "rb") as handle:
                    digest = _DIGESTS[marker] = hashlib.sha256(handle.read()).hexdigest()
            entries.append(f"{os.path.relpath(path, project_dir)}:{digest}")
    return hashlib.sha256("\n".join(sorted(entries)).encode()).hexdigest()


def cached_render(
    cache: RenderCache,
    render: Renderer,
    endpoint_services: dict[str, tuple[str, ...]],
    project_dir: Path | str,
    stack: str,
    config: Mapping[str, Any],
    *,
    project: str,
    peers: Mapping[str, Mapping[str, Any]],
    preview: bool,
    service_quotas: Mapping[tuple[str, str], float] | None,
    facts: Facts | None,
) -> Any:
    """``render_stack``'s answer from an enabled ``cache``: the cached render of the same inputs,
    or ``render``'s (kept for the next caller). ``endpoint_services`` is the region's
    ``ENDPOINT_SERVICE_ZONE_IDS``: a hit adds to it what the render it stands for added."""
    project_dir = Path(project_dir).resolve()
    key = cache.key(project_dir, stack, config, project=project, peers=peers, preview=preview,
                    service_quotas=service_quotas, facts=facts)
    cached = cache.entries.get(key)
    replay = True
    if cached is None and cache.directory is not None:
        with render_store.locked(cache.directory, key):
            cached = render_store.load(cache.directory, key)
            if cached is None:
                cached = _render_recorded(render, endpoint_services, project_dir, stack, config, project=project,
                                          peers=peers, preview=preview, service_quotas=service_quotas, facts=facts)
                render_store.store(cache.directory, key, cached)
                cache.misses += 1
                replay = False
            else:
                cache.hits += 1
        cache.entries[key] = cached
    elif cached is None:
        cache.misses += 1
        cached = cache.entries[key] = _render_recorded(
            render, endpoint_services, project_dir, stack, config, project=project, peers=peers, preview=preview,
            service_quotas=service_quotas, facts=facts,
        )
        replay = False
    else:
        cache.hits += 1
    cache.entries.move_to_end(key)
    if len(cache.entries) > cache.max_entries:
        cache.entries.popitem(last=False)
    if replay:
        # What a render would have done to the caller's world: its peers' look-ups (``channelctl
        # plan`` records the unknown ones) and the region's endpoint services it added.
        for lookup in cached.peer_lookups:
            peers.get(lookup, {})
        endpoint_services.update(cached.endpoint_services)
    return copy.deepcopy(cached.rendered)


def _render_recorded(render: Renderer, endpoint_services: dict[str, tuple[str, ...]], project_dir: Path, stack: str,
                     config: Mapping[str, Any], *, project: str, peers: Mapping[str, Mapping[str, Any]], preview: bool,
                     service_quotas: Mapping[tuple[str, str], float] | None, facts: Facts | None) -> _CachedRender:
    """One render with what it looked up and what it added to the region's endpoint services."""
    recording = _RecordingPeers(peers)
    services_before = dict(endpoint_services)
    rendered = render(project_dir, stack, config, project=project, peers=recording, preview=preview,
                      service_quotas=service_quotas, facts=facts)
    added = {k: v for k, v in endpoint_services.items() if services_before.get(k) != v}
    return _CachedRender(rendered, list(recording.lookups), added)
