# %% [markdown]
# # `import a.b as c` and `from a.b import c` inside a step
# setup binds ET (the xml.etree.ElementTree module) and dedent (a function imported from
# textwrap): both are import bindings, replayed in render rather than loaded.
# %% tags=["block:setup"]
# ins: -  outs: doc
import xml.etree.ElementTree as ET
from textwrap import dedent

doc = "<a><b>1</b></a>"
# %% tags=["block:render"]
# ins: doc(setup)  outs: -
root = ET.fromstring(doc)
print(dedent("""
    root: {}
""").format(root.tag))
