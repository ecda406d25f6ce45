"""The lab itself, proven with plain processes: an echo on the internet, asked from homes
behind each kind of NAT and firewall."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.network.lab import Firewall, Lab, Nat, Site
from tests.network.namespaces import lab_namespaces, run

PORTS = ("7000", "7001", "7002", "443")


def echo(lab: Lab) -> str:
    address = lab.server_address()
    lab.spawn(
        lab.internet,
        [sys.executable, "-m", "tests.network.echo", "serve", address, *PORTS],
        "echo.log",
        ready_line=b"ready",
    )
    return address


def ask(lab: Lab, site: Site, transport: str, server: str, *ports: str) -> list[str]:
    out = lab.python(site.host, "-m", "tests.network.echo", "ask", transport, server, *ports)
    return out.split()


def seen(answers: list[str]) -> tuple[set[str], set[str]]:
    """The source addresses and the source ports the server saw."""
    pairs = [answer.split(":") for answer in answers]
    return {host for host, _ in pairs}, {port for _, port in pairs}


def test_endpoint_independent_nat_keeps_one_mapping_for_every_destination(lab: Lab) -> None:
    server = echo(lab)
    home = lab.site("home", Nat.ENDPOINT_INDEPENDENT)

    addresses, ports = seen(ask(lab, home, "udp", server, *PORTS[:3]))

    assert addresses == {home.public_address}
    assert home.address not in addresses
    assert len(ports) == 1


def test_symmetric_nat_maps_each_destination_to_another_port(lab: Lab) -> None:
    server = echo(lab)
    carrier = lab.site("mobile", Nat.SYMMETRIC)

    addresses, ports = seen(ask(lab, carrier, "udp", server, *PORTS[:3]))

    assert addresses == {carrier.public_address}
    assert len(ports) > 1


def test_double_nat_shows_the_carrier_s_address(lab: Lab) -> None:
    server = echo(lab)
    home = lab.site("home", Nat.DOUBLE)

    addresses, _ = seen(ask(lab, home, "udp", server, *PORTS[:2]))

    assert addresses == {home.public_address}
    assert home.public_address.startswith("198.51.100.")
    router_wan = home.router.ip("-4", "-o", "address", "show", "dev", "wan")
    assert " 100.64." in router_wan


def test_udp_blocked_lets_tcp_through(lab: Lab) -> None:
    server = echo(lab)
    office = lab.site("office", Nat.ENDPOINT_INDEPENDENT, Firewall.UDP_BLOCKED)

    assert ask(lab, office, "udp", server, "7000") == ["no", "answer"]
    assert office.dropped() >= 1
    assert seen(ask(lab, office, "tcp", server, "7000", "443"))[0] == {office.public_address}


def test_only_tcp_443_gets_out(lab: Lab) -> None:
    server = echo(lab)
    hospital = lab.site("hospital", Nat.SYMMETRIC, Firewall.TCP443_ONLY)

    assert seen(ask(lab, hospital, "tcp", server, "443"))[0] == {hospital.public_address}
    before = hospital.dropped()
    assert ask(lab, hospital, "tcp", server, "7000") == ["no", "answer"]
    assert ask(lab, hospital, "udp", server, "443") == ["no", "answer"]
    assert hospital.dropped() >= before + 2


def test_a_home_network_is_not_reachable_from_another_home(lab: Lab) -> None:
    gp, patient = lab.site("gp", Nat.ENDPOINT_INDEPENDENT), lab.site("patient", Nat.DOUBLE)
    lab.spawn(
        patient.host,
        [sys.executable, "-m", "tests.network.echo", "serve", patient.address, "7000"],
        "patient-echo.log",
        ready_line=b"ready",
    )
    assert ask(lab, patient, "tcp", patient.address, "7000") != ["no", "answer"]
    assert ask(lab, gp, "tcp", patient.address, "7000") == ["no", "answer"]


def root_links() -> set[str]:
    listed = run(["ip", "-o", "link", "show"]).stdout.splitlines()
    return {line.split(":")[1].strip() for line in listed}


def test_nothing_routes_to_the_machine_s_own_networks(lab: Lab) -> None:
    before = root_links()
    lab.site("home", Nat.DOUBLE, Firewall.UDP_BLOCKED)
    assert root_links() == before
    lab_names = {ns.name for ns in lab.namespaces}
    for ns in lab.namespaces:
        for line in ns.ip("-o", "link", "show").splitlines():
            name = line.split(":")[1].strip().split("@")[0]
            assert name == "lo" or f"link-netns {ns.name}" not in line
            assert name == "lo" or any(f"link-netns {other}" in line for other in lab_names)
    assert lab.void.run(["sysctl", "-n", "net.ipv4.ip_forward"]).stdout.strip() == "0"
    assert lab.void.ip("route", "show").count("\n") == 1  # its own link, nothing beyond


def test_everything_is_removed_also_when_a_test_fails(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="the test failed"), Lab(tmp_path) as lab:
        lab.site("home", Nat.DOUBLE, Firewall.UDP_BLOCKED)
        sleeper = lab.spawn(lab.internet, ["sleep", "600"], "sleep.log")
        names = [ns.name for ns in lab.namespaces]
        raise RuntimeError("the test failed")
    assert sleeper.poll() is not None
    assert not set(names) & set(lab_namespaces())
    assert not {"wan", "lan", "up1"} & root_links()


def test_a_line_delays_and_loses_each_way_and_can_be_made_clean(lab: Lab) -> None:
    server = echo(lab)
    mobile = lab.site("mobile", Nat.SYMMETRIC, line=True)

    def probe() -> tuple[int, float]:
        out = lab.python(mobile.host, "-m", "tests.network.echo", "probe", server, "7000", "200")
        answered, median_ms = out.split()
        return int(answered), float(median_ms)

    clean = probe()
    lab.degrade(mobile, delay_ms=200, loss_percent=10)
    bad = probe()
    lab.degrade(mobile)
    again = probe()

    assert clean[0] == 200 and clean[1] < 50
    # 200 ms each way; a datagram comes back if neither way lost it: 0.9² of 200 is 162.
    assert 400 <= bad[1] < 500
    assert 130 <= bad[0] <= 190
    assert again[0] == 200 and again[1] < 50
