# %% [markdown]
# # Shell lines expand Python names
# IPython expands `{out_dir}` and `$name` in a shell line from the user namespace before
# running it, so `!mkdir -p {out_dir}` reads out_dir and `!echo $name` reads name: prepare
# loads both from config.
# %% tags=["block:config"]
# ins: -  outs: name out_dir
out_dir = "out/run1"
name = "demo"
# %% tags=["block:prepare"]
# ins: name(config) out_dir(config)  outs: -
!mkdir -p {out_dir}
!echo $name
