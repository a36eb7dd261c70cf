"""tests/bench/netns.py — two network namespaces joined by a bridge, for benchmarks.

Bridge(tag) creates three namespaces of its own, named after tag and this
process's PID: a sender side (10.47.0.1/24 on veth "vtx"), a receiver side
(10.47.0.2/24 on "vrx") and, between them, a namespace holding the Linux
bridge both veth pairs are enslaved to. Traffic between the two sides
crosses real veth pairs and a bridge (the kernel's full UDP and IP path,
not loopback), and nothing is added to the host's own network namespace.
wrap(side, argv) runs argv inside a side (`ip netns exec` execs, so the
PID and its rusage are argv's own); snmp(side) reads that side's UDP
counters (they are per namespace). close() removes all three namespaces,
which also removes the veths and the bridge; it is safe to call twice.
Root only.
"""
import os
import subprocess

TX_ADDR = "10.47.0.1"
RX_ADDR = "10.47.0.2"


class Bridge:
    def __init__(self, tag="sl-bench", mtu=1500):
        pid = os.getpid()
        self.ns = {"tx": "%s-tx-%d" % (tag, pid), "rx": "%s-rx-%d" % (tag, pid),
                   "br": "%s-br-%d" % (tag, pid)}
        self.addr = {"tx": TX_ADDR, "rx": RX_ADDR}
        self.iface = {"tx": "vtx", "rx": "vrx"}
        self.made = []
        try:
            self._build(mtu)
        except (subprocess.CalledProcessError, OSError):
            self.close()
            raise

    @staticmethod
    def _ip(*args):
        subprocess.run(["ip"] + list(args), check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=30)

    def _build(self, mtu):
        for ns in self.ns.values():
            self._ip("netns", "add", ns)
            self.made.append(ns)
        br = self.ns["br"]
        self._ip("-n", br, "link", "add", "br0", "type", "bridge")
        self._ip("-n", br, "link", "set", "br0", "up")
        self._ip("-n", br, "link", "set", "lo", "up")
        for side in ("tx", "rx"):
            ns, dev, peer = self.ns[side], self.iface[side], self.iface[side] + "-br"
            # created in the bridge's namespace, one end then moved to the side's
            self._ip("-n", br, "link", "add", dev, "mtu", str(mtu), "type", "veth", "peer", "name",
                     peer, "mtu", str(mtu))
            self._ip("-n", br, "link", "set", dev, "netns", ns)
            self._ip("-n", br, "link", "set", peer, "master", "br0")
            self._ip("-n", br, "link", "set", peer, "up")
            self._ip("-n", ns, "addr", "add", self.addr[side] + "/24", "dev", dev)
            self._ip("-n", ns, "link", "set", dev, "up")
            self._ip("-n", ns, "link", "set", "lo", "up")

    def wrap(self, side, argv):
        return ["ip", "netns", "exec", self.ns[side]] + list(argv)

    def snmp(self, side, field="RcvbufErrors"):
        out = subprocess.run(self.wrap(side, ["cat", "/proc/net/snmp"]), check=True,
                             capture_output=True, text=True, timeout=30).stdout
        lines = [l.split() for l in out.splitlines() if l.startswith("Udp:")]
        return int(lines[1][lines[0].index(field)])

    def close(self):
        for ns in reversed(self.made):
            subprocess.run(["ip", "netns", "del", ns], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=30)
        self.made = []
