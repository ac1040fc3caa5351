#!/usr/bin/python3
"""Writes the seed notebooks in testdata/, each in the style of a tool that
writes notebooks. Run from this directory: /usr/bin/python3 gen.py
The outputs are committed; this script documents how they were made."""
import copy
import json

PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
       "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")

NB = {
    "nbformat": 4,
    "nbformat_minor": 5,
    "metadata": {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python", "version": "3.11.2", "mimetype": "text/x-python",
                          "codemirror_mode": {"name": "ipython", "version": 3}},
        "kubeflow_notebook": {"pipeline_name": "démo", "docker_image": "", "volumes": []},
        "celltoolbar": "Tags",
        "zz_unknown": {"nested": [1, 2.5, None, True, "<&>"], "empty": {}},
    },
    "cells": [
        {"cell_type": "markdown", "id": "md-0", "metadata": {},
         "source": ["# Démo — 数据 ✓ 🚀\n", "\n", "Text with \"quotes\", \\backslash\\ and\ttab, U+2028 [\u2028]."]},
        {"cell_type": "code", "id": "c-1", "execution_count": 1, "metadata": {"tags": ["imports"]},
         "outputs": [], "source": ["import numpy as np\n", "import matplotlib.pyplot as plt"]},
        {"cell_type": "code", "id": "c-2", "execution_count": 2,
         "metadata": {"collapsed": False, "scrolled": True, "vscode": {"languageId": "python"}},
         "outputs": [
             {"name": "stdout", "output_type": "stream", "text": ["loaded 3 rows\n", "ünïcödé\n"]},
             {"data": {"image/png": PNG, "text/plain": ["<Figure size 640x480 with 1 Axes>"]},
              "metadata": {"needs_background": "light"}, "output_type": "display_data"},
             {"data": {"application/json": {"a": [1, {"b": None}], "c": "x"}, "text/plain": ["{'a': 1}"]},
              "execution_count": 2, "metadata": {}, "output_type": "execute_result"},
         ],
         "source": ["x = np.arange(3)  # ins: -  outs: x\n", "plt.plot(x)\n", "print('loaded 3 rows')"]},
        {"cell_type": "markdown", "id": "md-3", "metadata": {"tags": []},
         "attachments": {"pic.png": {"image/png": PNG}},
         "source": ["![pic](attachment:pic.png)"]},
        {"cell_type": "code", "id": "c-4", "execution_count": None,
         "metadata": {"tags": ["step:train", "limit:nvidia.com/gpu:1"]},
         "outputs": [{"ename": "ValueError", "evalue": "bad", "output_type": "error",
                      "traceback": ["\u001b[0;31mValueError\u001b[0m: bad"]}],
         "source": []},
        {"cell_type": "raw", "id": "r-5", "metadata": {"format": "text/plain"}, "source": ["raw text\n"]},
        {"cell_type": "code", "id": "c-6", "execution_count": None, "metadata": {}, "outputs": [],
         "source": ["%%bash\n", "echo hi"]},
    ],
}


def write(name, text, newline="\n"):
    with open(name, "w", encoding="utf-8", newline="") as f:
        f.write(text.replace("\n", newline))


# Jupyter (nbformat.write): sorted keys, one-space indent, raw non-ASCII.
write("jupyter.ipynb", json.dumps(NB, sort_keys=True, indent=1, ensure_ascii=False) + "\n")

# Windows line endings, otherwise Jupyter's layout.
write("crlf.ipynb", json.dumps(NB, sort_keys=True, indent=1, ensure_ascii=False) + "\n", "\r\n")

# A tool that keeps insertion order, indents by two and writes no final
# newline (VS Code, nbconvert with other options).
vs = copy.deepcopy(NB)
vs = {"metadata": vs["metadata"], "cells": vs["cells"], "nbformat_minor": 5, "nbformat": 4}
write("unsorted_2space.ipynb", json.dumps(vs, indent=2, ensure_ascii=False))

# Minified, ASCII-escaped, source stored as one string per cell.
mini = copy.deepcopy(NB)
for c in mini["cells"]:
    c["source"] = "".join(c["source"])
write("minified_source_string.ipynb", json.dumps(mini, separators=(",", ":"), ensure_ascii=True))

# nbformat 4.4 (no cell ids), tab indentation, Python's default separators.
old = copy.deepcopy(NB)
old["nbformat_minor"] = 4
for c in old["cells"]:
    del c["id"]
write("v44_tabs.ipynb", json.dumps(old, sort_keys=True, indent="\t", ensure_ascii=False) + "\n")

# A byte order mark, four-space indent, an R kernel, no language_info, and
# a notebook-level metadata that is empty.
r = copy.deepcopy(NB)
r["metadata"] = {"kernelspec": {"display_name": "R", "language": "R", "name": "ir"}}
write("bom_indent4_r.ipynb", "\ufeff" + json.dumps(r, sort_keys=True, indent=4, ensure_ascii=False) + "\n")

# Bare minimum: every metadata object empty, in Jupyter's layout.
bare = {"cells": [{"cell_type": "code", "execution_count": None, "id": "a", "metadata": {}, "outputs": [],
                   "source": ["x = 1"]},
                  {"cell_type": "markdown", "id": "b", "metadata": {}, "source": []}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
write("empty_metadata.ipynb", json.dumps(bare, sort_keys=True, indent=1, ensure_ascii=False) + "\n")
