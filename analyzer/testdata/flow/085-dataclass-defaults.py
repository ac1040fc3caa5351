# metadata: {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}, "language_info": {"name": "python"}}
# %% [markdown]
# # A dataclass whose field default reads a global
# The class body runs at definition, so `retries: int = default_retries` reads
# default_retries in define (the annotation int is a builtin). The decorator comes
# from the imports cell. make instantiates Settings and loads only the class.
# %% tags=["imports"]
from dataclasses import dataclass
# %% tags=["block:config"]
# ins: -  outs: default_retries
default_retries = 3
# %% tags=["block:define"]
# ins: default_retries(config)  outs: Settings
@dataclass
class Settings:
    name: str
    retries: int = default_retries
# %% tags=["block:make"]
# ins: Settings(define)  outs: -
s = Settings("job")
print(s)
