"""Proxy capacity: limits derived from the instance type's memory and the measured per-device cost."""

import re
import statistics
from pathlib import Path

import pytest

from authorizer import cost, hashes

from components import proxy_capacity as cap
from components.config import ConfigError, load_config
from components.device_access import proxy_settings
from components.proxy_config import render_haproxy_config, render_user_data
from tests.support import example_config

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "RESULTS.md"


# CPU seconds per session rise when other work shares the cores, so a CPU
# figure counts only from a run whose 1-minute load stayed under this per CPU.
IDLE_LOAD_PER_CPU = 1.5


def _sections() -> list[str]:
    text = RESULTS.read_text()
    return [part for part in text.split("\n## ") if "Figures used by components/proxy_capacity.py: " in part]


def recorded_figures() -> dict[str, float]:
    """Each figure's largest value over the benchmark runs recorded in RESULTS.md (the conservative one)."""
    sections = _sections()
    assert sections, "benchmarks/RESULTS.md has no capacity_bench section"
    runs = []
    for section in sections:
        line = next(x for x in section.splitlines() if x.startswith("Figures used by components/proxy_capacity.py: "))
        runs.append({k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", line)})
    return {k: max(run[k] for run in runs) for k in runs[0]}


def idle_cpu_runs(section: str, label: str) -> list[float] | None:
    """The CPU runs of one configuration if every one ran at an idle load, else None.

    A row reads ``| resumed ... | median | 2.523 (1.19), 2.460 (1.91) | ...``: each run's
    CPU seconds per 1,000 sessions with the 1-minute load at its end. Sections that
    recorded no load per run do not count.
    """
    cpus = int(re.search(r"Machine: (\d+) CPUs", section).group(1))
    row = next((x for x in section.splitlines() if x.startswith(f"| {label}")), None)
    if row is None:
        return None
    runs = [(float(v), float(load)) for v, load in re.findall(r"([\d.]+) \(([\d.]+)\)", row.split("|")[3])]
    if not runs or any(load >= IDLE_LOAD_PER_CPU * cpus for _, load in runs):
        return None
    return [v for v, _ in runs]


def idle_cpu_figure(label: str) -> float:
    """The largest median over the sections whose runs all ran at an idle load."""
    medians = []
    for section in _sections():
        runs = idle_cpu_runs(section, label)
        if runs is not None:
            medians.append(round(statistics.median(runs), 3))
    assert medians, f"benchmarks/RESULTS.md has no {label!r} CPU runs at a load under {IDLE_LOAD_PER_CPU} per CPU"
    return max(medians)


def test_only_runs_at_an_idle_load_size_the_cpu():
    loaded = "Machine: 2 CPUs (x86_64)\n| resumed (rendered `ssl-reuse`) | 2.5 | 2.4 (1.2), 2.5 (3.1) | 400 |"
    idle = "Machine: 2 CPUs (x86_64)\n| resumed (rendered `ssl-reuse`) | 2.5 | 2.4 (1.2), 2.5 (2.9) | 400 |"
    unrecorded = "Machine: 2 CPUs (x86_64)\n| resumed (rendered `ssl-reuse`) | 2.5 | 2.4, 2.5 | 400 |"
    assert idle_cpu_runs(loaded, "resumed") is None
    assert idle_cpu_runs(unrecorded, "resumed") is None
    assert idle_cpu_runs(idle, "resumed") == [2.4, 2.5]


def test_the_figures_are_the_largest_recorded_by_the_benchmark():
    figures = recorded_figures()
    assert cap.HAPROXY_BASE_RSS_KIB == round(figures["haproxy_base_rss_kib"])
    assert cap.HAPROXY_KIB_PER_DEVICE == max(figures["haproxy_burst_rss_kib_per_device"],
                                             figures["haproxy_rss_kib_per_device"])
    assert cap.KERNEL_KIB_PER_DEVICE == figures["kernel_kib_per_device"]


def test_the_cpu_figures_come_from_runs_at_an_idle_load():
    assert cap.CPU_SECONDS_PER_1000_SESSIONS == idle_cpu_figure("resumed")
    assert cap.CPU_SECONDS_PER_1000_SESSIONS_FULL_HANDSHAKE == idle_cpu_figure("full handshake")


@pytest.mark.parametrize("name", sorted(cap.INSTANCE_TYPES))
def test_maxconn_devices_fit_in_the_instance_memory_with_the_reserves(name):
    t = cap.INSTANCE_TYPES[name]
    n = cap.devices_per_instance(name)
    used_mib = (cap.HAPROXY_BASE_RSS_KIB + n * (cap.HAPROXY_KIB_PER_DEVICE + cap.KERNEL_KIB_PER_DEVICE)) / 1024
    assert n > 10_000, f"{name} holds too few devices to be worth supporting"
    assert used_mib + cap.OS_RESERVE_MIB <= t.memory_mib * 1.0
    # ... and leaves the peak headroom free, but not much more than one device's worth beyond it.
    free_mib = t.memory_mib - cap.OS_RESERVE_MIB - used_mib
    assert free_mib >= (t.memory_mib - cap.OS_RESERVE_MIB) * cap.PEAK_HEADROOM
    assert free_mib < (t.memory_mib - cap.OS_RESERVE_MIB) * cap.PEAK_HEADROOM + 1


def test_a_2_gib_instance_holds_far_fewer_than_the_50000_once_assumed():
    assert 15_000 < cap.devices_per_instance("t4g.small") < 30_000


def test_fleet_sizing_counts_at_most_one_nlb_targets_worth_per_instance():
    assert cap.devices_per_instance("t4g.2xlarge") > cap.CONNECTIONS_PER_NLB_TARGET
    assert cap.fleet_devices_per_instance("t4g.2xlarge") == cap.CONNECTIONS_PER_NLB_TARGET
    assert cap.proxy_fleet_min_size(150_000, "t4g.2xlarge") == 4


@pytest.mark.parametrize("devices,name", [(10_000, "t4g.small"), (150_000, "t4g.medium"), (250_000, "c7g.large"),
                                          (400_000, "t4g.small")])
def test_the_smallest_fleet_survives_losing_one_instance_and_one_less_does_not(devices, name):
    size = cap.proxy_fleet_min_size(devices, name)
    per = cap.fleet_devices_per_instance(name)
    assert (size - 1) * per >= devices
    cap.check_proxy_fleet(devices, name, size)
    if size > 2:
        assert (size - 2) * per < devices
        with pytest.raises(cap.CapacityError, match=rf"raise deviceAccess.proxyMinSize to at least {size}\b"):
            cap.check_proxy_fleet(devices, name, size - 1)


def test_the_example_fleet_is_sized_by_memory():
    cfg = load_config(example_config("iot"), stack="iot")
    access = cfg.device_access
    size = cap.proxy_fleet_min_size(cfg.expected_devices, access.proxy_instance_type)
    assert access.proxy_min_size == size
    # The old example (4 x t4g.small) is refused, naming both keys and the smallest valid values.
    old = example_config("iot")
    old["deviceAccess"]["proxyInstanceType"] = "t4g.small"
    with pytest.raises(ConfigError, match=r"deviceAccess.proxyMinSize 4 of t4g.small .* raise deviceAccess.proxyMinSize "
                                          r"to at least \d+, or deviceAccess.proxyInstanceType t4g.medium"):
        load_config(old, stack="iot")


def test_the_rendered_maxconn_and_descriptor_limit_follow_the_instance_type():
    cfg = load_config(example_config("iot"), stack="iot")
    ips = ["10.20.1.10", "10.20.2.10"]
    settings = proxy_settings(cfg.device_access, "iot.plant.example.com", ips)
    expected = cap.devices_per_instance(cfg.device_access.proxy_instance_type)
    config = render_haproxy_config(settings)
    assert re.search(rf"^global\n(?:    .*\n)*?    maxconn {expected}$", config, re.MULTILINE)
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    assert f"LimitNOFILE={2 * expected + 1024}" in render_user_data(settings, ca_bundle_pem=pem)


def test_maxconn_never_exceeds_the_source_ports_towards_the_endpoints():
    cfg = load_config(example_config("iot"), stack="iot")
    access = cfg.device_access.__class__(**{**cfg.device_access.__dict__, "proxy_instance_type": "t4g.2xlarge"})
    settings = proxy_settings(access, "iot.plant.example.com", ["10.20.1.10"])
    # 10240-65535, none of the example's family or health ports inside the range.
    assert cap.devices_per_instance("t4g.2xlarge") > settings.max_connections == 55_296


def test_a_decision_is_priced_as_the_registry_will_hold_it():
    # The example's import: $7$ 101 iterations; the registry also holds the project's scrypt.
    work = cap.authorizer_work("mosquitto-pbkdf2:101")
    assert work.specs == ("mosquitto-pbkdf2:101", "scrypt:ln=15,r=8,p=1")
    scrypt_ms = cost.cost_seconds(hashes.dummy_hash("scrypt")) * 1000
    pbkdf2_ms = cost.cost_seconds(hashes.dummy_hash("mosquitto-pbkdf2:101")) * 1000
    # A refresh verifies both; a CONNECT of a legacy device also re-hashes with scrypt.
    assert work.refresh_ms == pytest.approx(cap.AUTHORIZER_OVERHEAD_MS + pbkdf2_ms + scrypt_ms)
    assert work.connect_ms == pytest.approx(work.refresh_ms + scrypt_ms)
    # Not the unknownUserHash alone (0.16 ms, the old model's 196,000 decisions/s at 100 executions).
    assert work.connect_ms > 2 * scrypt_ms > 100 * pbkdf2_ms


def test_a_table_of_the_projects_scrypt_alone_pays_no_rehash():
    work = cap.authorizer_work("scrypt")
    assert work.specs == ("scrypt:ln=15,r=8,p=1",)
    assert work.connect_ms == work.refresh_ms


def test_the_authorizer_stage_counts_every_scheme_and_the_rehash():
    # 100 executions at 512 MB: under 100 CONNECT/s, far under the 500/s IoT Core quota.
    slow = cap.authorizer_stage(100, 512, "mosquitto-pbkdf2:101")
    assert slow.per_second < 100
    fast = cap.authorizer_stage(100, 1769, "mosquitto-pbkdf2:101")
    assert fast.per_second == pytest.approx(100 / (cap.authorizer_work("mosquitto-pbkdf2:101").connect_ms / 1000))
    with pytest.raises(cap.CapacityError, match="no cost model for hash scheme 'argon2'"):
        cap.authorizer_work("argon2")
