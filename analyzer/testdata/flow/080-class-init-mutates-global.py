# %% [markdown]
# # Instantiating a class runs __init__
# Each Job registers itself in the module-level list ALL_JOBS from __init__. make
# instantiates Job twice: it loads ALL_JOBS (from init) and saves it; report loads
# ALL_JOBS from make. define only defines the class.
# %% tags=["block:init"]
# ins: -  outs: ALL_JOBS
ALL_JOBS = []
# %% tags=["block:define"]
# ins: -  outs: Job
class Job:
    def __init__(self, name):
        self.name = name
        ALL_JOBS.append(name)
# %% tags=["block:make"]
# ins: ALL_JOBS(init) Job(define)  outs: ALL_JOBS jobs
jobs = [Job("a"), Job("b")]
# %% tags=["block:report"]
# ins: ALL_JOBS(make) jobs(make)  outs: -
print(ALL_JOBS, [j.name for j in jobs])
