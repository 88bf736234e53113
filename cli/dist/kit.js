#!/usr/bin/env node
import { createRequire as __kitCreateRequire } from 'node:module';
const require = __kitCreateRequire(import.meta.url);

// cli/src/command.ts
var ExitCode = { ok: 0, failed: 1, usage: 2 };
var UsageError = class extends Error {
};

// cli/src/term.ts
var useColor = process.env.FORCE_COLOR !== void 0 && process.env.FORCE_COLOR !== "0" ? true : process.env.NO_COLOR === void 0 && process.env.CI === void 0 && process.stdout.isTTY === true;
function paint(code) {
  return (s) => useColor ? `\x1B[${code}m${s}\x1B[0m` : s;
}
var color = {
  red: paint(31),
  green: paint(32),
  yellow: paint(33),
  blue: paint(34),
  dim: paint(2),
  bold: paint(1)
};
var out = (line = "") => {
  process.stdout.write(line + "\n");
};
var err = (line = "") => {
  process.stderr.write(line + "\n");
};

// cli/src/commands/bump.ts
var bumpCommand = {
  name: "bump",
  summary: "(not built yet)",
  help: "kit bump: not built yet",
  async run() {
    err("kit bump: not built yet");
    return ExitCode.failed;
  }
};

// cli/src/commands/clusters.ts
import { parseArgs } from "node:util";

// testinfra/clusters/local-clusters.ts
import { spawn, execFileSync } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  closeSync
} from "node:fs";
import { request } from "node:https";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
var here = dirname(fileURLToPath(import.meta.url));
function defaultStateRoot() {
  return process.env.KIT_CLUSTERS_DIR ?? join(tmpdir(), "kit-clusters");
}
var components = ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"];
var namePattern = /^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$/;
function ensureBinaries(log = () => {
}) {
  const script = join(repoRoot(), "testinfra", "controlplane", "build.sh");
  if (!existsSync(script)) throw new Error(`cannot find ${script}; run from a kit checkout`);
  log("checking control-plane binaries (first build compiles Kubernetes: 15-30 min)");
  const out2 = execFileSync("bash", [script], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"]
  });
  const lines = out2.trim().split("\n");
  return lines[lines.length - 1];
}
function repoRoot() {
  for (const candidate of [join(here, "..", ".."), join(here, "..", "..", "..")]) {
    if (existsSync(join(candidate, "testinfra", "controlplane", "build.sh"))) return candidate;
  }
  return join(here, "..", "..");
}
async function upClusters(options = {}) {
  const log = options.log ?? (() => {
  });
  const root = options.root ?? defaultStateRoot();
  const names = options.names ?? Array.from({ length: options.count ?? 3 }, (_, i) => `kit-${i + 1}`);
  if (names.length === 0) throw new Error("no clusters asked for: give a count of at least 1");
  for (const n of names) {
    if (!namePattern.test(n))
      throw new Error(
        `cluster name '${n}' is not a DNS label of lowercase letters, digits and '-' (max 32)`
      );
  }
  if (new Set(names).size !== names.length)
    throw new Error(`cluster names repeat: ${names.join(", ")}`);
  const existing = readState(root);
  if (existing) {
    const alive = existing.processes.every((p) => isAlive(p.pid));
    const same = existing.set.clusters.map((c) => c.name).join(",") === names.join(",");
    if (alive && same) {
      log(`reusing the running clusters ${names.join(", ")} (state in ${root})`);
      return existing.set;
    }
    if (alive) {
      throw new Error(
        `another set of clusters is running (${existing.set.clusters.map((c) => c.name).join(", ")}) in ${root}; stop it first with 'kit clusters down'`
      );
    }
    log("found a stale cluster set (some processes are gone); cleaning it up");
    await downClusters({ root, log });
  }
  const binDir = ensureBinaries(log);
  for (const p of ["etcd", ...components]) {
    if (!existsSync(join(binDir, p)))
      throw new Error(
        `control-plane binary '${p}' is missing from ${binDir}; delete that directory and retry`
      );
  }
  const basePort = options.basePort ?? Number(process.env.KIT_CLUSTERS_BASE_PORT ?? 17e3);
  const etcdPort = basePort;
  const plannedPorts = [
    { port: etcdPort, what: "etcd client" },
    { port: etcdPort + 1, what: "etcd peer" }
  ];
  const clusters = names.map((name, i) => {
    const base = basePort + 10 * (i + 1);
    const ports = { api: base, controllerManager: base + 1, scheduler: base + 2, kwok: base + 3 };
    plannedPorts.push(
      { port: ports.api, what: `kube-apiserver of ${name}` },
      { port: ports.controllerManager, what: `kube-controller-manager of ${name}` },
      { port: ports.scheduler, what: `kube-scheduler of ${name}` },
      { port: ports.kwok, what: `kwok of ${name}` }
    );
    return {
      name,
      server: `https://127.0.0.1:${ports.api}`,
      kubeconfigPath: join(root, name, "kubeconfig"),
      ports,
      dir: join(root, name)
    };
  });
  await assertPortsFree(plannedPorts);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true, mode: 448 });
  const set = { root, etcdPort, clusters, kubeconfigPath: join(root, "kubeconfig") };
  const state = { set, processes: [], binDir, startedAt: (/* @__PURE__ */ new Date()).toISOString() };
  const started = Date.now();
  try {
    const env = { ...process.env, GOMEMLIMIT: process.env.GOMEMLIMIT ?? "400MiB" };
    log(`starting etcd on 127.0.0.1:${etcdPort}`);
    const etcdDir = join(root, "etcd");
    mkdirSync(etcdDir, { recursive: true });
    startProcess(
      state,
      "(shared)",
      "etcd",
      join(binDir, "etcd"),
      [
        "--name=kit",
        `--data-dir=${join(etcdDir, "data")}`,
        `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
        `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
        `--listen-peer-urls=http://127.0.0.1:${etcdPort + 1}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPort + 1}`,
        `--initial-cluster=kit=http://127.0.0.1:${etcdPort + 1}`,
        "--listen-metrics-urls=",
        "--auto-compaction-retention=1",
        // Test data is thrown away on `down`; fsync only slows every write on a shared disk.
        "--unsafe-no-fsync=true"
      ],
      join(etcdDir, "etcd.log"),
      env
    );
    writeState(state);
    await waitFor(
      `etcd on port ${etcdPort}`,
      3e4,
      state,
      async () => (await httpGetPlain(`http://127.0.0.1:${etcdPort}/health`)).includes("true")
    );
    const stages = composeStages(binDir, root);
    for (const c of clusters) startApiServer(state, c, binDir, etcdPort, env);
    writeState(state);
    await Promise.all(
      clusters.map((c) => waitFor(`kube-apiserver of ${c.name}`, 12e4, state, () => apiReady(c)))
    );
    for (const c of clusters) {
      writeKubeconfig(c);
      startAgents(state, c, binDir, stages, env);
    }
    writeState(state);
    writeMergedKubeconfig(set);
    await Promise.all(clusters.map((c) => prepareCluster(c, options.nodes ?? 2, state)));
    log(
      `${clusters.length} cluster(s) ready in ${((Date.now() - started) / 1e3).toFixed(1)}s: ${names.join(", ")}`
    );
    log(`kubeconfig with a context per cluster: ${set.kubeconfigPath}`);
    return set;
  } catch (err2) {
    log("start failed; stopping what was started");
    await stopProcesses(state.processes);
    throw err2;
  }
}
async function downClusters(options = {}) {
  const root = options.root ?? defaultStateRoot();
  const state = readState(root);
  if (!state) {
    options.log?.(`no clusters are running (no state in ${root})`);
    return 0;
  }
  const count = await stopProcesses(state.processes);
  rmSync(root, { recursive: true, force: true });
  options.log?.(
    `stopped ${state.set.clusters.length} cluster(s) (${count} processes) and removed ${root}`
  );
  return count;
}
async function clusterStatus(options = {}) {
  const root = options.root ?? defaultStateRoot();
  const state = readState(root);
  if (!state) return { root, clusters: [] };
  const proc = (p) => ({
    component: p.component,
    pid: p.pid,
    alive: isAlive(p.pid),
    rssKiB: rssKiB(p.pid)
  });
  const etcd = state.processes.find((p) => p.component === "etcd");
  const clusters = [];
  for (const c of state.set.clusters) {
    clusters.push({
      name: c.name,
      server: c.server,
      kubeconfigPath: c.kubeconfigPath,
      ready: await apiReady(c).catch(() => false),
      processes: state.processes.filter((p) => p.cluster === c.name).map(proc)
    });
  }
  return { root, clusters, etcd: etcd ? proc(etcd) : void 0 };
}
function startProcess(state, cluster, component, bin, args, logPath, env) {
  const fd = openSync(logPath, "a");
  const child = spawn(bin, args, { detached: true, stdio: ["ignore", fd, fd], env });
  closeSync(fd);
  if (child.pid === void 0)
    throw new Error(`could not start ${component} for ${cluster} (${bin})`);
  child.unref();
  state.processes.push({ cluster, component, pid: child.pid, log: logPath });
}
async function stopProcesses(processes) {
  const live = processes.filter((p) => isAlive(p.pid));
  const order = [...live].sort(
    (a, b) => Number(a.component === "etcd") - Number(b.component === "etcd")
  );
  for (const p of order) signal(p.pid, "SIGTERM");
  const deadline = Date.now() + 15e3;
  while (Date.now() < deadline && live.some((p) => isAlive(p.pid))) await sleep(100);
  for (const p of live) if (isAlive(p.pid)) signal(p.pid, "SIGKILL");
  while (live.some((p) => isAlive(p.pid))) await sleep(50);
  return live.length;
}
function signal(pid, sig) {
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
    }
  }
}
function isAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.split(") ")[1]?.[0] !== "Z";
  } catch {
    return false;
  }
}
function rssKiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}
async function assertPortsFree(ports) {
  const taken = [];
  for (const p of ports) {
    if (!await portFree(p.port)) taken.push(`127.0.0.1:${p.port} (wanted for ${p.what})`);
  }
  if (taken.length > 0) {
    throw new Error(
      `port already in use: ${taken.join(", ")}. Another program or cluster set holds it; check 'kit clusters status', or choose another range with KIT_CLUSTERS_BASE_PORT`
    );
  }
}
function portFree(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}
function readState(root) {
  const file = join(root, "state.json");
  if (!existsSync(file)) return void 0;
  return JSON.parse(readFileSync(file, "utf8"));
}
function writeState(state) {
  writeFileSync(join(state.set.root, "state.json"), JSON.stringify(state, null, 2) + "\n", {
    mode: 384
  });
}
async function waitFor(what, timeoutMs, state, probe) {
  const deadline = Date.now() + timeoutMs;
  for (; ; ) {
    const dead = state.processes.find((p) => !isAlive(p.pid));
    if (dead)
      throw new Error(
        `${dead.component} of ${dead.cluster} exited while waiting for ${what}; last log lines:
${tail(dead.log, 15)}`
      );
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs / 1e3}s waiting for ${what}`);
    await sleep(250);
  }
}
function tail(file, lines) {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}
function startApiServer(state, c, binDir, etcdPort, env) {
  mkdirSync(join(c.dir, "certs"), { recursive: true, mode: 448 });
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  writeFileSync(join(c.dir, "sa.key"), privateKey.export({ type: "pkcs8", format: "pem" }), {
    mode: 384
  });
  const token = randomBytes(24).toString("hex");
  writeFileSync(join(c.dir, "token"), token, { mode: 384 });
  writeFileSync(join(c.dir, "tokens.csv"), `${token},kit-admin,kit-admin,"system:masters"
`, {
    mode: 384
  });
  startProcess(
    state,
    c.name,
    "kube-apiserver",
    join(binDir, "kube-apiserver"),
    [
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      // One etcd serves the whole set; each cluster keeps its own key prefix.
      `--etcd-prefix=/kit-clusters/${c.name}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${c.ports.api}`,
      `--cert-dir=${join(c.dir, "certs")}`,
      `--token-auth-file=${join(c.dir, "tokens.csv")}`,
      "--authorization-mode=Node,RBAC",
      "--allow-privileged=true",
      "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
      `--service-account-key-file=${join(c.dir, "sa.key")}`,
      `--service-account-signing-key-file=${join(c.dir, "sa.key")}`,
      "--service-cluster-ip-range=10.96.0.0/16",
      // The reconciler would publish 127.0.0.1 as the `kubernetes` Service's endpoint; nothing
      // in these clusters dials it, and loopback endpoints are rejected by validation anyway.
      "--endpoint-reconciler-type=none",
      "--enable-priority-and-fairness=false",
      "--profiling=false"
    ],
    join(c.dir, "kube-apiserver.log"),
    env
  );
}
function startAgents(state, c, binDir, stagesPath, env) {
  startProcess(
    state,
    c.name,
    "kube-controller-manager",
    join(binDir, "kube-controller-manager"),
    [
      `--kubeconfig=${c.kubeconfigPath}`,
      "--bind-address=127.0.0.1",
      `--secure-port=${c.ports.controllerManager}`,
      "--leader-elect=false",
      `--root-ca-file=${join(c.dir, "certs", "apiserver.crt")}`,
      `--service-account-private-key-file=${join(c.dir, "sa.key")}`,
      "--use-service-account-credentials=false",
      // Faster node-failure detection than the 40 s default, so a stopped kwok shows quickly.
      "--node-monitor-grace-period=20s",
      "--profiling=false"
    ],
    join(c.dir, "kube-controller-manager.log"),
    env
  );
  startProcess(
    state,
    c.name,
    "kube-scheduler",
    join(binDir, "kube-scheduler"),
    [
      `--kubeconfig=${c.kubeconfigPath}`,
      "--bind-address=127.0.0.1",
      `--secure-port=${c.ports.scheduler}`,
      "--leader-elect=false",
      "--profiling=false"
    ],
    join(c.dir, "kube-scheduler.log"),
    env
  );
  startProcess(
    state,
    c.name,
    "kwok",
    join(binDir, "kwok"),
    [
      `--kubeconfig=${c.kubeconfigPath}`,
      `--config=${stagesPath}`,
      "--manage-all-nodes=true",
      "--node-name=localhost",
      "--node-ip=127.0.0.1",
      // Pod IPs are only ever written into status; loopback keeps even that on this host.
      "--cidr=127.100.0.1/16",
      `--server-address=127.0.0.1:${c.ports.kwok}`,
      `--node-port=${c.ports.kwok}`
    ],
    join(c.dir, "kwok.log"),
    env
  );
}
function composeStages(binDir, root) {
  const defaults = [
    "node-initialize",
    "node-heartbeat-with-lease",
    "pod-ready",
    "pod-complete",
    "pod-delete"
  ];
  const parts = defaults.map(
    (n) => readFileSync(join(binDir, "stages", `${n}.yaml`), "utf8").trimEnd()
  );
  parts.push(
    readFileSync(join(repoRoot(), "testinfra", "clusters", "fault-stages.yaml"), "utf8").trimEnd()
  );
  const file = join(root, "kwok-stages.yaml");
  writeFileSync(file, parts.join("\n---\n") + "\n");
  return file;
}
function caPath(c) {
  return join(c.dir, "certs", "apiserver.crt");
}
function writeKubeconfig(c) {
  writeFileSync(c.kubeconfigPath, kubeconfigYaml([c]), { mode: 384 });
}
function writeMergedKubeconfig(set) {
  writeFileSync(set.kubeconfigPath, kubeconfigYaml(set.clusters), { mode: 384 });
}
function kubeconfigYaml(clusters) {
  const lines = [
    "apiVersion: v1",
    "kind: Config",
    `current-context: ${clusters[0].name}`,
    "clusters:"
  ];
  for (const c of clusters) {
    const ca = readFileSync(caPath(c)).toString("base64");
    lines.push(
      `- name: ${c.name}`,
      "  cluster:",
      `    server: ${c.server}`,
      `    certificate-authority-data: ${ca}`
    );
  }
  lines.push("users:");
  for (const c of clusters) {
    lines.push(
      `- name: ${c.name}-admin`,
      "  user:",
      `    token: ${readFileSync(join(c.dir, "token"), "utf8")}`
    );
  }
  lines.push("contexts:");
  for (const c of clusters) {
    lines.push(
      `- name: ${c.name}`,
      "  context:",
      `    cluster: ${c.name}`,
      `    user: ${c.name}-admin`
    );
  }
  return lines.join("\n") + "\n";
}
async function apiReady(c) {
  if (!existsSync(caPath(c))) return false;
  const body = await apiRequest(c, "GET", "/readyz");
  return body.status === 200;
}
function apiRequest(c, method, path, payload) {
  const token = existsSync(join(c.dir, "token")) ? readFileSync(join(c.dir, "token"), "utf8") : "";
  return new Promise((resolve, reject) => {
    const req = request(
      `${c.server}${path}`,
      {
        method,
        ca: readFileSync(caPath(c)),
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          accept: "application/json"
        },
        timeout: 5e3
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d) => body += d);
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      }
    );
    req.on("timeout", () => req.destroy(new Error(`timeout talking to ${c.server}`)));
    req.on("error", reject);
    if (payload !== void 0) req.write(JSON.stringify(payload));
    req.end();
  });
}
function httpGetPlain(url) {
  return fetch(url, { signal: AbortSignal.timeout(2e3) }).then((r) => r.text());
}
async function prepareCluster(c, nodes, state) {
  for (let i = 0; i < nodes; i++) {
    const name = `kwok-node-${i}`;
    const res = await apiRequest(c, "POST", "/api/v1/nodes", {
      apiVersion: "v1",
      kind: "Node",
      metadata: {
        name,
        annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
        labels: {
          type: "kwok",
          "kubernetes.io/hostname": name,
          "kubernetes.io/os": "linux",
          "kubernetes.io/arch": "amd64",
          "node-role.kubernetes.io/agent": ""
        }
      },
      spec: {},
      status: {
        allocatable: { cpu: "32", memory: "256Gi", pods: "110" },
        capacity: { cpu: "32", memory: "256Gi", pods: "110" },
        addresses: [
          { type: "InternalIP", address: "127.0.0.1" },
          { type: "Hostname", address: "localhost" }
        ]
      }
    });
    if (res.status !== 201 && res.status !== 409)
      throw new Error(
        `creating node ${name} on ${c.name} failed: HTTP ${res.status} ${res.body.slice(0, 300)}`
      );
  }
  await waitFor(`${nodes} Ready node(s) on ${c.name}`, 6e4, state, async () => {
    const res = await apiRequest(c, "GET", "/api/v1/nodes");
    const items = JSON.parse(res.body).items ?? [];
    const ready = items.filter(
      (n) => n.status?.conditions?.some((x) => x.type === "Ready" && x.status === "True") && (n.spec?.taints ?? []).length === 0
    );
    return ready.length >= nodes;
  });
  await waitFor(
    `the default ServiceAccount on ${c.name}`,
    6e4,
    state,
    async () => (await apiRequest(c, "GET", "/api/v1/namespaces/default/serviceaccounts/default")).status === 200
  );
}
function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// cli/src/commands/clusters.ts
var help = `kit clusters \u2014 real local Kubernetes clusters for tests and the demo

Usage:
  kit clusters up [N] [--names a,b,c] [--nodes 2]   start N clusters (default 3), or reuse a running set
  kit clusters status                                 list the running clusters and their memory
  kit clusters down                                   stop every process and remove the state

Each cluster is a real kube-apiserver, controller manager and scheduler (sharing one etcd)
with kwok fake nodes, all on 127.0.0.1. The binaries are built from the Go modules pinned in
testinfra/controlplane and cached outside the repository.

Images whose registry host ends in .invalid fail with ImagePullBackOff; tags ending in
-crashloop fail with CrashLoopBackOff (a Job's pod fails). See docs/local-clusters.md.

Environment: KIT_CLUSTERS_DIR (state, default $TMPDIR/kit-clusters),
KIT_CLUSTERS_BASE_PORT (default 17000), KIT_TESTBIN_CACHE (binaries).`;
var clustersCommand = {
  name: "clusters",
  summary: "start, inspect and stop real local clusters (tests, demo)",
  help,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { names: { type: "string" }, nodes: { type: "string" } }
    });
    const [action, countArg] = positionals;
    const log = (line) => err(color.dim(line));
    switch (action) {
      case "up": {
        const names = values.names?.split(",").map((s) => s.trim()).filter(Boolean);
        const count = countArg === void 0 ? void 0 : Number(countArg);
        if (count !== void 0 && (!Number.isInteger(count) || count < 1 || count > 20)) {
          throw new UsageError(
            `cluster count must be a whole number from 1 to 20, got '${countArg}'`
          );
        }
        const nodes = values.nodes === void 0 ? void 0 : Number(values.nodes);
        const set = await upClusters({ names, count, nodes, log });
        for (const c of set.clusters)
          out(`${color.green("\u25CF")} ${c.name}  ${c.server}  ${c.kubeconfigPath}`);
        out(`KUBECONFIG=${set.kubeconfigPath}`);
        return ExitCode.ok;
      }
      case "status": {
        const status = await clusterStatus();
        if (status.clusters.length === 0) {
          out("no clusters are running");
          return ExitCode.ok;
        }
        for (const c of status.clusters) {
          const rss = c.processes.reduce((sum, p) => sum + p.rssKiB, 0);
          const down = c.processes.filter((p) => !p.alive).map((p) => p.component);
          const mark = c.ready && down.length === 0 ? color.green("\u25CF ready") : color.red("\u25CF not ready");
          out(
            `${mark}  ${c.name}  ${c.server}  ${(rss / 1024).toFixed(0)} MiB${down.length ? `  stopped: ${down.join(", ")}` : ""}`
          );
        }
        if (status.etcd)
          out(
            `${color.dim("shared etcd")}  pid ${status.etcd.pid}  ${(status.etcd.rssKiB / 1024).toFixed(0)} MiB`
          );
        return status.clusters.every((c) => c.ready) ? ExitCode.ok : ExitCode.failed;
      }
      case "down":
        await downClusters({ log });
        return ExitCode.ok;
      default:
        throw new UsageError(
          action === void 0 ? "say up, status or down" : `unknown action '${action}': say up, status or down`
        );
    }
  }
};

// cli/src/commands/deploy.ts
var deployCommand = {
  name: "deploy",
  summary: "(not built yet)",
  help: "kit deploy: not built yet",
  async run() {
    err("kit deploy: not built yet");
    return ExitCode.failed;
  }
};
var diffCommand = {
  name: "diff",
  summary: "(not built yet)",
  help: "kit diff: not built yet",
  async run() {
    err("kit diff: not built yet");
    return ExitCode.failed;
  }
};

// cli/src/commands/render.ts
var renderCommand = {
  name: "render",
  summary: "(not built yet)",
  help: "kit render: not built yet",
  async run() {
    err("kit render: not built yet");
    return ExitCode.failed;
  }
};

// cli/src/commands/index.ts
var commands = [
  renderCommand,
  diffCommand,
  deployCommand,
  bumpCommand,
  clustersCommand
];

// cli/src/kit.ts
var topHelp = () => `kit \u2014 continuous deployment to many Kubernetes clusters from git

Usage: kit <command> [options]     (kit <command> --help for details)

Commands:
${commands.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join("\n")}

Exit codes: 0 success, 1 the operation failed, 2 bad usage or input.`;
async function main(argv) {
  const [name, ...rest] = argv;
  if (name === void 0 || name === "--help" || name === "-h" || name === "help") {
    out(topHelp());
    return name === void 0 ? ExitCode.usage : ExitCode.ok;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    err(`kit: unknown command '${name}'

${topHelp()}`);
    return ExitCode.usage;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    out(command.help);
    return ExitCode.ok;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (e instanceof UsageError || e instanceof Error && "code" in e && String(e.code).startsWith("ERR_PARSE_ARGS")) {
      err(`kit ${name}: ${message}
Run 'kit ${name} --help' for usage.`);
      return ExitCode.usage;
    }
    err(`${color.red("error:")} ${message}`);
    return e instanceof Error && e.name === "InputError" ? ExitCode.usage : ExitCode.failed;
  }
}
process.exitCode = await main(process.argv.slice(2));
export {
  main
};
