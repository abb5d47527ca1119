//go:build cty113

// Built with -tags cty113 against go-cty >= 1.13 (how the vectors in
// tests/cli/cty/function-vectors.txt were recorded): refinements both ways
// and AssertNotNull, as soup-go (go-cty 1.19) has them.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

const oracleHasRefinements = true

// A package-level initialiser, not init(): call.go's init() runs the
// command, and package variables are all set before any init() runs.
var _ = addAssertNotNull()

func addAssertNotNull() bool {
	callFunctions["assertnotnull"] = stdlib.AssertNotNullFunc
	return true
}

func refineBound(key string, raw json.RawMessage) (cty.Value, bool, error) {
	var pair []json.RawMessage
	if err := json.Unmarshal(raw, &pair); err != nil {
		return cty.NilVal, false, fmt.Errorf("%s must be a [digits, inclusive] pair, got %s", key, raw)
	}
	if len(pair) != 2 {
		return cty.NilVal, false, fmt.Errorf("%s must have exactly 2 elements, got %d", key, len(pair))
	}
	var text string
	if err := json.Unmarshal(pair[0], &text); err != nil {
		return cty.NilVal, false, fmt.Errorf("%s bound must be a string of digits, got %s", key, pair[0])
	}
	var incl bool
	if err := json.Unmarshal(pair[1], &incl); err != nil {
		return cty.NilVal, false, fmt.Errorf("%s inclusiveness must be a bool, got %s", key, pair[1])
	}
	bf, _, err := big.ParseFloat(text, 10, 512, big.ToNearestEven)
	if err != nil {
		return cty.NilVal, false, fmt.Errorf("invalid number bound %q: %w", text,
			fmt.Errorf("%q is not a number: %w", text, err))
	}
	return cty.NumberVal(bf), incl, nil
}

func refineLength(key string, raw json.RawMessage) (int, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var d any
	if err := dec.Decode(&d); err != nil {
		return 0, fmt.Errorf("%s must be a number: %w", key, err)
	}
	n, ok := d.(json.Number)
	if !ok {
		return 0, fmt.Errorf("%s must be a number, got %s", key, raw)
	}
	l, err := strconv.Atoi(n.String())
	if err != nil {
		return 0, fmt.Errorf("%s must be an integer this build can hold, got %s", key, n.String())
	}
	if l < 0 {
		return 0, fmt.Errorf("%s must not be negative, got %d", key, l)
	}
	return l, nil
}

func refinedUnknown(ty cty.Type, raw json.RawMessage) (cty.Value, error) {
	var r map[string]json.RawMessage
	if err := json.Unmarshal(raw, &r); err != nil {
		return cty.NilVal, fmt.Errorf("refinements must be an object: %w", err)
	}
	if r == nil {
		return cty.NilVal, fmt.Errorf("refinements must be an object")
	}
	b := cty.UnknownVal(ty).Refine()
	seen := map[string]bool{}
	take := func(k string) (json.RawMessage, bool) {
		f, ok := r[k]
		if ok {
			seen[k] = true
		}
		return f, ok
	}
	if f, ok := take("is_known_null"); ok {
		var isNull bool
		if err := json.Unmarshal(f, &isNull); err != nil {
			return cty.NilVal, fmt.Errorf("is_known_null must be a bool: %w", err)
		}
		if isNull {
			b = b.Null()
		} else {
			b = b.NotNull()
		}
	}
	if f, ok := take("string_prefix"); ok {
		var p string
		if err := json.Unmarshal(f, &p); err != nil {
			return cty.NilVal, fmt.Errorf("string_prefix must be a string: %w", err)
		}
		b = b.StringPrefixFull(p)
	}
	if f, ok := take("number_lower_bound"); ok {
		v, incl, err := refineBound("number_lower_bound", f)
		if err != nil {
			return cty.NilVal, err
		}
		b = b.NumberRangeLowerBound(v, incl)
	}
	if f, ok := take("number_upper_bound"); ok {
		v, incl, err := refineBound("number_upper_bound", f)
		if err != nil {
			return cty.NilVal, err
		}
		b = b.NumberRangeUpperBound(v, incl)
	}
	if f, ok := take("collection_length_lower_bound"); ok {
		l, err := refineLength("collection_length_lower_bound", f)
		if err != nil {
			return cty.NilVal, err
		}
		b = b.CollectionLengthLowerBound(l)
	}
	if f, ok := take("collection_length_upper_bound"); ok {
		l, err := refineLength("collection_length_upper_bound", f)
		if err != nil {
			return cty.NilVal, err
		}
		b = b.CollectionLengthUpperBound(l)
	}
	var unread []string
	for k := range r {
		if !seen[k] {
			unread = append(unread, k)
		}
	}
	if len(unread) > 0 {
		sort.Strings(unread)
		return cty.NilVal, fmt.Errorf("unknown refinement %s", strings.Join(unread, ", "))
	}
	return b.NewValue(), nil
}

func resultRefinements(v cty.Value) map[string]any {
	rng := v.Range()
	out := map[string]any{}
	if rng.DefinitelyNotNull() {
		out["is_known_null"] = false
	}
	ty := rng.TypeConstraint()
	switch {
	case ty == cty.String:
		if p := rng.StringPrefix(); p != "" {
			out["string_prefix"] = p
		}
	case ty == cty.Number:
		if b, incl := rng.NumberLowerBound(); b.IsKnown() && !b.IsNull() && !b.AsBigFloat().IsInf() {
			out["number_lower_bound"] = []any{b.AsBigFloat().Text('f', -1), incl}
		}
		if b, incl := rng.NumberUpperBound(); b.IsKnown() && !b.IsNull() && !b.AsBigFloat().IsInf() {
			out["number_upper_bound"] = []any{b.AsBigFloat().Text('f', -1), incl}
		}
	case ty.IsCollectionType():
		if l := rng.LengthLowerBound(); l != 0 {
			out["collection_length_lower_bound"] = l
		}
		if u := rng.LengthUpperBound(); u != math.MaxInt {
			out["collection_length_upper_bound"] = u
		}
	}
	return out
}
