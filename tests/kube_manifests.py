#!/usr/bin/env python3
"""Checks deploy/kubernetes and turns it into what `podman kube play` runs.

  kube_manifests.py check KUSTOMIZATION_DIR
  kube_manifests.py podman KUSTOMIZATION_DIR TOKENS_DIR OUT_DIR

check: every resource of the kustomization parses; each Service selects the
pods of exactly one workload and targets named ports those pods declare;
every container's image is one of the kustomization's images; every probe
names a declared port; every Secret volume is pbrx-tokens; the autoscaler
scales an existing Deployment on a metric the coordinator exports; args that
name another daemon use a Service that exists and a port it serves.

podman: podman 4.3 plays Pods, Deployments and PersistentVolumeClaims only,
and has neither Services (cluster DNS) nor Secrets from a cluster. So the
pod templates are kept unchanged except for what stands in for the cluster:
  - a StatefulSet becomes a Deployment of the same template plus one
    PersistentVolumeClaim per volumeClaimTemplate (named as Kubernetes
    names them: TEMPLATE-STATEFULSET-0);
  - Services become host names: every pod shares the host's network and
    resolves each Service name to 127.0.0.1 (OUT_DIR/hosts mounted at
    /etc/hosts: podman 4.3 drops hostAliases on the host's network), so the ports in
    the manifests must not collide (checked) and are not declared (podman
    maps no ports on the host's network), and each workload runs one
    replica (two would take the same ports);
  - the pbrx-tokens Secret volume becomes a hostPath volume of TOKENS_DIR;
  - the autoscaler is left out (no metrics adapter).
Writes OUT_DIR/claims.yaml (the PersistentVolumeClaims: played first, so a
test can fill a volume before anything uses it) and OUT_DIR/workloads.yaml.
Prints the names of what it left out.
"""

import os
import re
import sys

import yaml

COORDINATOR_METRICS = ("pbrx_coordinator_queue_depth", "pbrx_coordinator_running",
                       "pbrx_coordinator_builds_in_flight")


def load(kdir):
    with open(os.path.join(kdir, "kustomization.yaml")) as f:
        kustomization = yaml.safe_load(f)
    docs = []
    for resource in kustomization["resources"]:
        with open(os.path.join(kdir, resource)) as f:
            docs += [(resource, d) for d in yaml.safe_load_all(f) if d]
    return kustomization, docs


def pod_spec(doc):
    return doc["spec"]["template"]["spec"]


def check(kdir):
    kustomization, docs = load(kdir)
    problems = []
    images = {i["name"] for i in kustomization.get("images", [])}
    workloads = [(f, d) for f, d in docs if d["kind"] in ("Deployment", "StatefulSet")]
    services = {d["metadata"]["name"]: d for _, d in docs if d["kind"] == "Service"}
    deployments = {d["metadata"]["name"] for _, d in docs if d["kind"] == "Deployment"}
    host_ports = {}
    for f, w in workloads:
        name = w["metadata"]["name"]
        labels = w["spec"]["template"]["metadata"]["labels"]
        selector = w["spec"]["selector"]["matchLabels"]
        if any(labels.get(k) != v for k, v in selector.items()):
            problems.append(f"{f}: {name}: selector {selector} does not match its pods' labels")
        spec = pod_spec(w)
        for c in spec["containers"]:
            image = c["image"].split(":")[0]
            if image not in images:
                problems.append(f"{f}: {name}: image {c['image']} is not in the kustomization")
            ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
            for p in ports.values():
                if p in host_ports:
                    problems.append(f"{f}: {name}: port {p} also used by {host_ports[p]}")
                host_ports[p] = name
            for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
                if probe not in c:
                    continue
                action = next(iter(k for k in c[probe] if k in ("grpc", "httpGet", "tcpSocket")))
                port = c[probe][action]["port"]
                if port not in ports.values() and port not in ports:
                    problems.append(f"{f}: {name}: {probe} port {port} is not declared")
            for arg in c.get("args", []):
                for host, port in re.findall(r"grpcs?://([a-z0-9-]+):(\d+)", arg):
                    svc = services.get(host)
                    if svc is None:
                        problems.append(f"{f}: {name}: {arg} names no Service")
                    elif int(port) not in [p["port"] for p in svc["spec"]["ports"]]:
                        problems.append(f"{f}: {name}: {arg}: Service {host} has no port {port}")
            mounts = {m["name"] for m in c.get("volumeMounts", [])}
            declared = {v["name"] for v in spec.get("volumes", [])}
            declared |= {t["metadata"]["name"] for t in w["spec"].get("volumeClaimTemplates", [])}
            for m in sorted(mounts - declared):
                problems.append(f"{f}: {name}: volume {m} is mounted but not declared")
        for v in spec.get("volumes", []):
            if "secret" in v and v["secret"]["secretName"] != "pbrx-tokens":
                problems.append(f"{f}: {name}: unknown Secret {v['secret']['secretName']}")
    for sname, svc in services.items():
        selector = svc["spec"]["selector"]
        matched = [w for _, w in workloads
                   if all(w["spec"]["template"]["metadata"]["labels"].get(k) == v
                          for k, v in selector.items())]
        if len(matched) != 1:
            problems.append(f"Service {sname} selects {len(matched)} workloads, want 1")
            continue
        named = {p["name"] for c in pod_spec(matched[0])["containers"] for p in c.get("ports", [])}
        for p in svc["spec"]["ports"]:
            if p["targetPort"] not in named:
                problems.append(f"Service {sname}: targetPort {p['targetPort']} is not a named port")
    for f, d in docs:
        if d["kind"] != "HorizontalPodAutoscaler":
            continue
        target = d["spec"]["scaleTargetRef"]
        if target["kind"] != "Deployment" or target["name"] not in deployments:
            problems.append(f"{f}: autoscaler scales {target}, not a Deployment here")
        for m in d["spec"]["metrics"]:
            metric = m[m["type"].lower()]["metric"]["name"]
            if metric not in COORDINATOR_METRICS:
                problems.append(f"{f}: autoscaler metric {metric} is not a coordinator gauge")
            described = m[m["type"].lower()].get("describedObject", {})
            if described and described.get("name") not in services:
                problems.append(f"{f}: autoscaler describes {described}, not a Service here")
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


def podman(kdir, tokens, out_dir):
    _, docs = load(kdir)
    service_names = sorted(d["metadata"]["name"] for _, d in docs if d["kind"] == "Service")
    claims, played, skipped = [], [], []
    for _, d in docs:
        kind = d["kind"]
        if kind in ("Service", "HorizontalPodAutoscaler"):
            skipped.append(f"{kind}/{d['metadata']['name']}")
            continue
        if kind == "StatefulSet":
            name = d["metadata"]["name"]
            for t in d["spec"].pop("volumeClaimTemplates", []):
                claim = f"{t['metadata']['name']}-{name}-0"
                claims.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                               "metadata": {"name": claim}, "spec": t["spec"]})
                pod_spec(d).setdefault("volumes", []).append(
                    {"name": t["metadata"]["name"], "persistentVolumeClaim": {"claimName": claim}})
            d["spec"].pop("serviceName", None)
            d["kind"] = "Deployment"
        if d["kind"] == "Deployment":
            spec = pod_spec(d)
            spec["hostNetwork"] = True
            spec.setdefault("volumes", []).append(
                {"name": "cluster-dns",
                 "hostPath": {"path": os.path.join(os.path.abspath(out_dir), "hosts"),
                              "type": "File"}})
            # On the host's network a container port is the host's port:
            # podman refuses port mappings there, and two replicas would
            # take the same ports.
            for c in spec["containers"]:
                c.pop("ports", None)
                c.setdefault("volumeMounts", []).append(
                    {"name": "cluster-dns", "mountPath": "/etc/hosts", "readOnly": True})
            d["spec"]["replicas"] = 1
            for v in spec.get("volumes", []):
                if "secret" in v:
                    del v["secret"]
                    v["hostPath"] = {"path": os.path.abspath(tokens), "type": "Directory"}
        played.append(d)
    with open(os.path.join(out_dir, "hosts"), "w") as f:
        f.write("127.0.0.1 localhost " + " ".join(service_names) + "\n")
    for name, content in (("claims.yaml", claims), ("workloads.yaml", played)):
        with open(os.path.join(out_dir, name), "w") as f:
            yaml.safe_dump_all(content, f, sort_keys=False)
    print(" ".join(skipped))
    return 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "check":
        return check(sys.argv[2])
    if len(sys.argv) == 5 and sys.argv[1] == "podman":
        return podman(sys.argv[2], sys.argv[3], sys.argv[4])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
