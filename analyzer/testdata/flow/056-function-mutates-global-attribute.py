# %% [markdown]
# # A called function that changes a global object's attribute
# reset sets `state.count = 0` on the free global state (no `global` needed): calling it
# makes run load state and save it. report loads state from run. setup binds state.
# %% tags=["functions"]
class State:
    def __init__(self):
        self.count = 5
# %% tags=["block:setup"]
# ins: -  outs: state
state = State()
# %% tags=["block:define"]
# ins: -  outs: reset
def reset():
    state.count = 0
# %% tags=["block:run"]
# ins: reset(define) state(setup)  outs: state
reset()
# %% tags=["block:report"]
# ins: state(run)  outs: -
print(state.count)
