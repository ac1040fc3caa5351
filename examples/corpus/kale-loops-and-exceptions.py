# %% [markdown]
# # Parsing sensor logs: loops that may or may not bind names (Kale-annotated)
# %% tags=["imports"]
import math
import json
# %% tags=["block:raw_lines"]
raw_lines = [
    '{"sensor": "t1", "value": 21.5}',
    '{"sensor": "t2", "value": "n/a"}',
    'garbage line',
    '{"sensor": "t1", "value": 22.1}',
    '{"sensor": "h1", "value": 55}',
    '{"sensor": "t2", "value": 19.0}',
    '{"value": 3}',
]
last_good = "none yet"
print(len(raw_lines), "lines")
# %% tags=["block:parse"]
readings, errors = [], []
for lineno, line in enumerate(raw_lines, 1):
    try:
        rec = json.loads(line)
        value = float(rec["value"])
    except json.JSONDecodeError as exc:
        errors.append((lineno, "json", exc.msg))
        continue
    except (ValueError, KeyError) as exc:
        errors.append((lineno, type(exc).__name__, str(exc)))
        continue
    else:
        readings.append((rec.get("sensor"), value))
        last_good = line
    finally:
        pass
print(readings)
print(errors)
print("lines seen:", lineno)
# %% tags=["block:first_hot"]
for sensor, value in readings:
    if sensor.startswith("t") and value > 22:
        hot = (sensor, value)
        break
else:
    hot = None
print("first hot reading:", hot)
# %% tags=["block:search"]
threshold = 100
while threshold > 0:
    matches = [v for _, v in readings if v > threshold]
    if matches:
        found_at = threshold
        break
    threshold -= 10
print("threshold", threshold, "matches", matches)
if threshold > 0:
    print("found at", found_at)
# %% tags=["block:stats"]
by_sensor = {}
for sensor, value in readings:
    by_sensor.setdefault(sensor, []).append(value)
if by_sensor:
    spread = {s: max(v) - min(v) for s, v in by_sensor.items()}
print({s: round(sum(v) / len(v), 2) for s, v in by_sensor.items()})
print(spread)
# %% tags=["block:summary"]
print("last good line:", last_good)
print("errors:", len(errors), "hot:", hot, "found at:", found_at)
print(math.fsum(v for _, v in readings))
