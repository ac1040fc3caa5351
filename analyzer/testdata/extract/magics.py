# IPython syntax is never a syntax error: shell lines, line and cell
# magics, help, prompts. Positions stay those of the original cell.

# %% shell lines
!ls -la  # problem info shell-line@1: "!ls -la
files = ["a"]  # want: write files
if x:  # want: read x
    !pip install foo  # problem info shell-line@5: pip install
    y = 1  # want: write y?
!cp {src} {dst.path}/x {{literal}} ${HOME}  # want: read src@6, read dst@12, read HOME~ ;; problem info shell-line@1
!ls \
   -la {not_read}
done = 1  # want: write done ;; problem info shell-line@7:1
out = !ls {pattern}  # want: read pattern@12, write out@1 ;; problem info shell-line@7
lines = !!cat f  # want: write lines ;; problem info shell-line@9

# %% line magics
%matplotlib inline
%load_ext autoreload
%time x = f()  # want: call f@11, write x<-f@7
%time sum(range(10))  # want: call range(_), call sum(_)
%timeit y = g(x)  # want: read x, call g(x)
%timeit -n 10 -r 3 -o z = h()  # want: call h@27
%env A=B
%cd {folder}  # want: read folder@6
%pip install -q pandas
w = %who_ls  # want: write w
t = %time compute()  # want: call compute@11, write t<-compute
%time \
    total = 1  # want: write total
obj?
obj.method??
?obj
%pinfo obj
%%time
    %time v = 1  # want: write v ;; problem error syntax-error@11: unexpected indentation

# %% what looks like a magic inside strings or expressions is not one
s = (  # want: write s:"\n!not a shell line\n%notmagic\n"
"""
!not a shell line
%notmagic
""")
y = a % b  # want: read a, read b, write y
z = (a !=  # want: read a, write z
     b)  # want: read b
q = [1,
%2]  # problem error syntax-error@1: invalid syntax ;; want@9: write q

# %% %%capture binds its name at the end; the body is Python
%%capture --no-stderr out
x = 1  # want: write x
print(x)  # want: read x, call print(x)
# want@1: write out@23 ;; cell magic=capture args="--no-stderr out"

# %% %%time: the body is Python
%%time
x = f()  # want: call f, write x<-f ;; cell magic=time

# %% %%timeit: the body binds nothing
%%timeit -n 3
y = x + 1  # want: read x ;; cell magic=timeit
import os
del y
def f(): pass
x.append(1)  # want: mutate x

# %% %%bash is a shell step: no Python, no problem
%%bash
for f in *.txt; do echo $f; done
x = 1
# cell lang=Shell magic=bash

# %% leading blank lines and indentation before the cell magic
 
  %%sh
  ls
# cell lang=Shell magic=sh

# %% %%script bash is a shell step
%%script bash
echo hi
# cell lang=Shell magic=script

# %% %%script python3 runs elsewhere: a cell-magic warning
%%script python3
x = 1
# cell lang=Python magic=script ;; problem warning cell-magic@1:1: script

# %% other cell magics are warnings, not analysed
%%sql
SELECT * FROM t WHERE x = 1
# cell lang=SQL magic=sql ;; problem warning cell-magic@1:1: %%sql is not Python

# %% %%R
%%R -i df
summary(df)
# cell lang=R magic=R ;; problem warning cell-magic@1:1: IPython

# %% %%html
%%html
<b>x</b>
# cell lang=HTML magic=html ;; problem warning cell-magic@1:1: run_cell_magic

# %% %%js
%%js
console.log(1)
# cell lang=JavaScript magic=js ;; problem warning cell-magic@1:1: run_cell_magic

# %% unknown cell magic
%%nosuchmagic arg
whatever
# cell lang=Text magic=nosuchmagic ;; problem warning cell-magic@1:1: nosuchmagic

# %% a cell indented as a whole runs in IPython
    x = 1  # want: write x@5
    if x:  # want: read x@8
        y = x  # want: read x?@13, write y?@9

# %% pasted >>> prompts
>>> x = 1  # want: write x@5
>>> for i in r:  # want: read r@14, write i?@9
...     print(i)  # want: read i?@15, call print(i)?@9

# %% pasted IPython prompts
In [3]: a = 1  # want: write a@9
   ...: b = a  # want: read a@13, write b@9

# %% another kernel language: nothing is analysed
x <- c(1, 2)
# kernel r ;; cell lang=R

# %% unknown kernel language
x = 1
# kernel brainfunk ;; cell lang=brainfunk

# %% a Python kernel with another spelling
x = 1  # want: write x ;; kernel python3

# %% a syntax error next to a placeholder points into the original text
!0
  $  # problem error syntax-error@3: near "$ ;; problem info shell-line@1:1

# %% $name is a soft read: IPython expands it only when the name exists
!echo $name '$quoted' $$literal ${braced} {hard} {fn(x)}  # want: read name~, read braced~, read hard, read fn ;; problem info shell-line@1
!awk '{print $1}' data.txt  # problem info shell-line@1
%cd $folder  # want: read folder~
def f():  # want: write f:function ;; func f:
    !echo $inside  # problem info shell-line@5
