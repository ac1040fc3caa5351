# What runs under if/for/while/try/with/match may not run: Cond (?).
# The test of an if and the iterable of a for always run.

# %% if / elif / else
if a > b:  # want: read a, read b
    x = 1  # want: write x?
elif c:  # want: read c?
    x = 2  # want: write x?
else:
    del x  # want: del x?
y = x  # want: read x, write y

# %% for / else: the target binds conditionally
for item in data:  # want: read data, write item?
    total += item  # want: read item?, mutate total?
else:
    done = True  # want: write done?
for i, (k, v) in enumerate(d.items()):  # want: mutate d, call enumerate(_), write i?, write k?, write v?
    pass

# %% while
while n > 0:  # want: read n
    n -= 1  # want: mutate n?
else:
    finished = n  # want: read n?, write finished?

# %% try / except / else / finally, except-as unbinds at the handler's end
try:
    r = risky()  # want: call risky?, write r<-risky?
except (ValueError, KeyError) as err:  # want: read ValueError?, read KeyError?, write err?, unbind err?
    message = str(err)  # want: read err?, call str(err)?, write message<-str?
except OSError:  # want: read OSError?
    pass
else:
    ok = True  # want: write ok?
finally:
    cleanup()  # want: call cleanup?
print(err)  # want: read err, call print(err)

# %% with: the items run, the body may not
with open(path) as fh, lock:  # want: read path, call open(path), fileread path, write fh, read lock
    text = fh.read()  # want: mutate fh?, write text?
with (a() as x, b() as (y, z)):  # want: call a, write x, call b, write y, write z
    pass
async def agen():  # want: write agen:function ;; func agen: reads=c,e,open calls=open files=r"f"
    async with c as d:
        await e
    async for i in d:
        pass
    with open("f") as fh: pass

# %% match: subject runs, patterns capture, value patterns read
match command.split():  # want: mutate command
    case [action]:  # want: write action?
        pass
    case [Point(x=0, y=yy), *rest] if yy > limit:  # want: read Point?, write yy?, write rest?, read yy?, read limit?
        pass
    case {"key": value, **others}:  # want: write value?, write others?
        pass
    case Color.RED | Shape.Circle(radius=r) as whole:  # want: read Color?, read Shape?, write r?, write whole?
        pass
    case [_, *_]:
        pass
    case _:
        result = None  # want: write result?

# %% match is also a plain name
match = 3  # want: write match
print(match)  # want: read match, call print(match)

# %% nested conditions stay conditional
if a:  # want: read a
    for x in xs:  # want: read xs?, write x?
        if x:  # want: read x?
            y = x  # want: read x?, write y?
