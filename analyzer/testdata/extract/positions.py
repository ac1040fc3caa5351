# Lines and columns are 1-based in the original cell; columns count
# characters, not bytes.

# %% non-ASCII text before a name
s = "ééé"; t = s  # want: write s:"ééé"@1, read s@16, write t@12
données = 1  # want: write données@1
x = données + ñ  # want: read données@5, read ñ@15, write x@1
"日本語".join(y)  # want: read y@12
f"{ü}→{v}"  # want: read ü@4, read v@8
	tab = 1  # want: write tab@2 ;; problem error syntax-error@2: unexpected indentation

# %% positions after a removed magic prefix
%time é = "日本"  # want: write é:"日本"@7
%timeit -n 1 ü.append(y)  # want: read y@23, mutate ü@14
r = !echo é {ä}  # want: read ä@14, write r@1 ;; problem info shell-line@5

# %% positions in a cell indented as a whole, with a prompt-free second line
  é = 1  # want: write é@3
  ü = é  # want: read é@7, write ü@3
