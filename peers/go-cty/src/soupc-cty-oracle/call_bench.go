// `callbench FILE ROUNDS`: the in-process half of bench/cty/bench_func.py.
// FILE holds JSON lines ["fn", arg, ...] (cty call's argument form); the
// arguments are decoded once, then every call runs ROUNDS times in a tight
// loop. Prints "fn rounds total_ns" per line, so the benchmark compares
// function calls, not process start-up or argument parsing.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/zclconf/go-cty/cty"
)

func callBench(a []string) {
	if len(a) != 2 {
		fmt.Fprintln(os.Stderr, "Error: usage: callbench FILE ROUNDS")
		os.Exit(1)
	}
	rounds, err := strconv.Atoi(a[1])
	if err != nil || rounds < 1 {
		fmt.Fprintln(os.Stderr, "Error: ROUNDS must be a positive integer")
		os.Exit(1)
	}
	f, err := os.Open(a[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error: "+err.Error())
		os.Exit(1)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var req []json.RawMessage
		if len(sc.Bytes()) == 0 || sc.Bytes()[0] == '#' {
			continue
		}
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil || len(req) == 0 {
			fmt.Fprintf(os.Stderr, "Error: bad workload line %q\n", sc.Text())
			os.Exit(1)
		}
		var name string
		_ = json.Unmarshal(req[0], &name)
		fn, ok := callFunctions[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "Error: unknown function %q\n", name)
			os.Exit(1)
		}
		args := make([]cty.Value, len(req)-1)
		for i, r := range req[1:] {
			v, err := callArgValue(r)
			if err != nil {
				fmt.Fprintf(os.Stderr, "Error: %s argument %d: %v\n", name, i, err)
				os.Exit(1)
			}
			args[i] = v
		}
		if _, err := fn.Call(args); err != nil {
			fmt.Fprintf(os.Stderr, "Error: %s: %v\n", name, err)
			os.Exit(1)
		}
		start := time.Now()
		for i := 0; i < rounds; i++ {
			_, _ = fn.Call(args)
		}
		fmt.Printf("%s %d %d\n", name, rounds, time.Since(start).Nanoseconds())
	}
}
