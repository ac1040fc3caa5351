// Command timecmd runs a command several times and prints the median,
// minimum and maximum wall time, for benchmarks of whole processes (a cold
// CLI start) beside in-process `go test -bench` numbers.
//
//	go run ./hack/timecmd -n 20 -label "analyze --json" -- bin/datainsight analyze --json nb.ipynb
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"time"
)

func main() {
	n := flag.Int("n", 20, "runs (after one warm-up run)")
	label := flag.String("label", "", "name printed with the result")
	flag.Parse()
	args := flag.Args()
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: timecmd [-n N] [-label L] -- COMMAND [ARGS...]")
		os.Exit(2)
	}
	run := func() time.Duration {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Stderr = os.Stderr
		start := time.Now()
		if err := cmd.Run(); err != nil {
			if _, ok := err.(*exec.ExitError); !ok {
				fmt.Fprintln(os.Stderr, "timecmd:", err)
				os.Exit(1)
			}
		}
		return time.Since(start)
	}
	run()
	ds := make([]time.Duration, *n)
	for i := range ds {
		ds[i] = run()
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	if *label == "" {
		*label = args[0]
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	fmt.Printf("%-40s median %8.2f ms   min %8.2f ms   max %8.2f ms   (%d runs)\n", *label, ms(ds[len(ds)/2]), ms(ds[0]), ms(ds[len(ds)-1]), *n)
}
