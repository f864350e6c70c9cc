#!/usr/bin/env bash
# Multi-host federation test: the hub and three sites, each in its own network namespace with
# its own address on a private bridge, talk over real addresses (not loopback). Each site
# escalates a phishing campaign they all see plus one incident of its own; the hub must show
# the campaign as one incident with three sightings, three single-site incidents, and three
# connected sites. Needs root and `ip netns`; skips with a message otherwise.
#
# Usage: deploy/netns-test.sh [BIN_DIR]   (default: target/debug; build with `cargo build`)
set -euo pipefail
cd "$(dirname "$0")/.."

bin="${1:-target/debug}"
if [[ $(id -u) -ne 0 ]] || ! command -v ip >/dev/null || ! ip netns list >/dev/null 2>&1; then
    echo "netns-test: skipped (needs root and 'ip netns' from iproute2)"
    exit 0
fi
for b in sirt-hub site-agent; do
    [[ -x "$bin/$b" ]] || { echo "netns-test: $bin/$b not found; run 'cargo build' first" >&2; exit 1; }
done
bin="$(cd "$bin" && pwd)"

tag="sf$$"
work="$(mktemp -d)"
net="${tag}-net"
sites=(paris lyon berlin)
declare -A addr=([hub]=10.77.0.1 [paris]=10.77.0.11 [lyon]=10.77.0.12 [berlin]=10.77.0.13)
pids=()

# Every process this script starts runs inside one of its namespaces, so `ip netns pids` names
# exactly those processes (and no one else's), whatever wrappers stood between.
ns_pids() { for host in hub "${sites[@]}"; do ip netns pids "${tag}-${host}" 2>/dev/null || true; done; }
cleanup() {
    for pid in "${pids[@]}" $(ns_pids); do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    # Anything else still in a namespace (a stray child of a server) gets a moment, then SIGKILL.
    for _ in $(seq 1 100); do [[ -z "$(ns_pids)" ]] && break; sleep 0.1; done
    for pid in $(ns_pids); do kill -KILL "$pid" 2>/dev/null || true; done
    for host in hub "${sites[@]}"; do ip netns del "${tag}-${host}" 2>/dev/null || true; done
    ip netns del "$net" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# One namespace holds the bridge; each host gets a veth pair into it.
ip netns add "$net"
ip -n "$net" link add br0 type bridge
ip -n "$net" link set br0 up
n=0
for host in hub "${sites[@]}"; do
    n=$((n + 1))
    ns="${tag}-${host}"
    ip netns add "$ns"
    ip link add "${tag}h${n}" type veth peer name "${tag}b${n}"
    ip link set "${tag}h${n}" netns "$ns"
    ip link set "${tag}b${n}" netns "$net"
    ip -n "$net" link set "${tag}b${n}" master br0 up
    ip -n "$ns" link set "${tag}h${n}" name eth0
    ip -n "$ns" addr add "${addr[$host]}/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
done
in_ns() { local host=$1; shift; ip netns exec "${tag}-${host}" "$@"; }

# PKI: certificates name the real addresses clients dial.
pki="$work/pki"
"$bin/sirt-hub" pki init --dir "$pki" --trust-domain corp.example >/dev/null
"$bin/sirt-hub" pki issue --dir "$pki" --hub --ip "${addr[hub]}" >/dev/null
"$bin/sirt-hub" pki issue --dir "$pki" --operator ines >/dev/null
for site in "${sites[@]}"; do
    "$bin/sirt-hub" pki issue --dir "$pki" --site "$site" --ip "${addr[$site]}" >/dev/null
done

cat >"$work/hub.toml" <<EOF
listen = "${addr[hub]}:7443"
data_dir = "$work/hub-data"
trust_domain = "corp.example"
[tls]
ca = "$pki/ca.crt"
cert = "$pki/hub.crt"
key = "$pki/hub.key"
[[sites]]
id = "paris"
[[sites]]
id = "lyon"
[[sites]]
id = "berlin"
EOF
# `ip netns exec` execs the program, so $! is the server itself (a function call in the
# background would be a subshell whose pid is not the server's).
ip netns exec "${tag}-hub" "$bin/sirt-hub" serve --config "$work/hub.toml" >"$work/hub.log" 2>&1 &
pids+=($!)

for site in "${sites[@]}"; do
    cat >"$work/$site.toml" <<EOF
site_id = "$site"
data_dir = "$work/$site-data"
trust_domain = "corp.example"
[tls]
ca = "$pki/ca.crt"
cert = "$pki/sites/$site.crt"
key = "$pki/sites/$site.key"
[hub]
address = "${addr[hub]}:7443"
backoff_initial = "100ms"
backoff_max = "1s"
[local_api]
listen = "${addr[$site]}:7601"
[soc]
managers = ["ines"]
EOF
    ip netns exec "${tag}-${site}" "$bin/site-agent" serve --config "$work/$site.toml" >"$work/$site.log" 2>&1 &
    pids+=($!)
done

export SOCFED_CA="$pki/ca.crt" SOCFED_CERT="$pki/operators/ines.crt" SOCFED_KEY="$pki/operators/ines.key"
retry() { for _ in $(seq 1 100); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done; "$@"; }

for site in "${sites[@]}"; do
    agent="--agent ${addr[$site]}:7601"
    # shellcheck disable=SC2086
    retry in_ns "$site" "$bin/site-agent" escalate $agent --request-id "campaign-$site" \
        --title "Invoice phishing" --severity high --rule PHISH-7 --indicator domain:invoices-pay.example
    # shellcheck disable=SC2086
    retry in_ns "$site" "$bin/site-agent" escalate $agent --request-id "own-$site" \
        --title "Malware on a $site workstation" --severity medium --rule "EDR-$site" \
        --indicator "sha256:$(printf '%s' "$site" | sha256sum | cut -d' ' -f1)"
done

hub_q() { in_ns hub "$bin/sirt-hub" "$@" --hub "${addr[hub]}:7443" -o json; }
ok=""
for _ in $(seq 1 100); do
    incidents="$(hub_q incidents list 2>/dev/null || true)"
    sites_json="$(hub_q sites 2>/dev/null || true)"
    if python3 - "$incidents" "$sites_json" <<'PY'
import json, sys
incidents, sites = json.loads(sys.argv[1] or "[]"), json.loads(sys.argv[2] or "[]")
campaign = [i for i in incidents if i["title"] == "Invoice phishing"]
own = [i for i in incidents if i["title"].startswith("Malware on")]
ok = (len(campaign) == 1 and len(campaign[0]["sightings"]) == 3 and len(own) == 3
      and len(incidents) == 4 and sorted(s["site"] for s in sites if s["connected"]) == ["berlin", "lyon", "paris"])
sys.exit(0 if ok else 1)
PY
    then ok=1; break; fi
    sleep 0.2
done
if [[ -z "$ok" ]]; then
    echo "netns-test: FAILED; hub view:" >&2
    echo "$incidents" >&2
    echo "$sites_json" >&2
    tail -n 20 "$work"/*.log >&2
    exit 1
fi
echo "netns-test: ok (hub ${addr[hub]} and sites ${addr[paris]}, ${addr[lyon]}, ${addr[berlin]} in separate namespaces: one campaign with 3 sightings, 3 single-site incidents, 3 sites connected)"
