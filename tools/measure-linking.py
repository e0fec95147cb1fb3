"""Times a stage deletion's search for the maps linking to it, the old way
(maps/list, then maps/get of each blueprint and communication map) against
maps/linking, on the demo project plus 40 communication maps of 200 rows
(5 of them linking to the CJM stage), against a release `comops serve`
on a scratch SQLite database (docs/benchmarks.md, "Studio: the maps
linking to a stage"). Needs Python's `requests` and a release build:
`cargo build --release -p comops-server --bin comops`, then
`COMOPS_BIN=target/release/comops python3 tools/measure-linking.py`."""
import json, os, statistics, subprocess, sys, tempfile, time, requests
BIN = os.environ.get("COMOPS_BIN") or os.path.expanduser("~/.cache/comops-rel/release/comops")
PORT = 3497
BASE = f"http://127.0.0.1:{PORT}"
data = tempfile.mkdtemp(prefix="comops-measure-")
env = dict(os.environ, DATABASE_URL=f"sqlite://{data}/comops.db", COMOPS_DATA_DIR=data, RUST_LOG="error")
subprocess.run([BIN, "migrate"], env=env, check=True, capture_output=True)
subprocess.run([BIN, "user", "create", "--email", "a@x.example", "--role", "admin", "--password", "a-long-measure-password"], env=env, check=True, capture_output=True)
server = subprocess.Popen([BIN, "serve", "--demo", "--listen", f"127.0.0.1:{PORT}"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    s = requests.Session(); s.headers["Origin"] = BASE
    for _ in range(100):
        try:
            if s.post(f"{BASE}/api/login", data={"email": "a@x.example", "password": "a-long-measure-password"}).status_code == 200: break
        except requests.ConnectionError: pass
        time.sleep(0.1)
    CJM = "map_registration-cjm"
    for i in range(40):
        mid = s.post(f"{BASE}/api/maps/create", data={"project_id": "prj_demo", "kind": "communication", "title": f"m{i}"}).json()
        rows = [{"id": f"r{j}", "event": f"event {j} " + "x" * 60, "communication": "text " * 20,
                 **({"stages": [{"map": CJM, "item": "registration"}]} if i < 5 and j % 50 == 0 else {})} for j in range(200)]
        r = s.post(f"{BASE}/api/maps/save", json={"map_id": mid, "title": f"m{i}", "json": json.dumps(rows and {"rows": rows}), "note": "", "base_version": 1})
        assert "Saved" in r.json(), r.text
    def old():
        n = 0
        for m in s.post(f"{BASE}/api/maps/list", data={"project_id": "prj_demo"}).json():
            if m["id"] != CJM and m["kind"] in ("blueprint", "communication"):
                s.post(f"{BASE}/api/maps/get", data={"map_id": m["id"], "version": "0"}).raise_for_status(); n += 1
        return n
    def new():
        return len(s.post(f"{BASE}/api/maps/linking", json={"map_id": CJM, "items": ["registration"]}).json())
    for name, f in (("old: list + each map", old), ("maps/linking", new), ("old: list + each map", old), ("maps/linking", new)):
        times = []
        for _ in range(7):
            t = time.perf_counter(); n = f(); times.append((time.perf_counter() - t) * 1000)
        print(f"{name}: {n} maps, median {statistics.median(times):.1f} ms, min {min(times):.1f}, max {max(times):.1f}")
finally:
    server.terminate(); server.wait()
    subprocess.run(["rm", "-rf", data])
