// Argument decoding for `cty call`: soup-go's type descriptions (with its
// "bytes" capsule) and its rich value dialect (wire-cty-spec.md §1.2, §1.3 b),
// with the same acceptance rules and error texts, on go-cty's public API.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strings"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// richType reads a soup-go type description (spec §1.2).
func richType(data json.RawMessage) (cty.Type, error) {
	var name string
	if err := json.Unmarshal(data, &name); err == nil {
		switch name {
		case "string":
			return cty.String, nil
		case "number":
			return cty.Number, nil
		case "bool":
			return cty.Bool, nil
		case "dynamic":
			return cty.DynamicPseudoType, nil
		case "bytes":
			return stdlib.Bytes, nil
		}
		return cty.NilType, fmt.Errorf("unknown primitive type string: %s", name)
	}
	var list []json.RawMessage
	if err := json.Unmarshal(data, &list); err != nil {
		return cty.NilType, fmt.Errorf("invalid type specification format")
	}
	if len(list) < 2 {
		return cty.NilType, fmt.Errorf("type array must have at least 2 elements")
	}
	var kind string
	if err := json.Unmarshal(list[0], &kind); err != nil {
		return cty.NilType, err
	}
	limit := 2
	if kind == "object" {
		limit = 3
	}
	if len(list) > limit {
		return cty.NilType, fmt.Errorf("unexpected extra data in %s type description: %d elements", kind, len(list))
	}
	switch kind {
	case "list", "set", "map":
		et, err := richType(list[1])
		if err != nil {
			return cty.NilType, err
		}
		switch kind {
		case "list":
			return cty.List(et), nil
		case "set":
			return cty.Set(et), nil
		}
		return cty.Map(et), nil
	case "object":
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(list[1], &raw); err != nil {
			return cty.NilType, err
		}
		attrs := make(map[string]cty.Type, len(raw))
		for k, r := range raw {
			at, err := richType(r)
			if err != nil {
				return cty.NilType, err
			}
			attrs[k] = at
		}
		if len(list) > 2 {
			var opt []string
			if err := json.Unmarshal(list[2], &opt); err != nil {
				return cty.NilType, err
			}
			return cty.ObjectWithOptionalAttrs(attrs, opt), nil
		}
		return cty.Object(attrs), nil
	case "tuple":
		var raw []json.RawMessage
		if err := json.Unmarshal(list[1], &raw); err != nil {
			return cty.NilType, err
		}
		ets := make([]cty.Type, len(raw))
		for i, r := range raw {
			et, err := richType(r)
			if err != nil {
				return cty.NilType, err
			}
			ets[i] = et
		}
		return cty.Tuple(ets), nil
	}
	return cty.NilType, fmt.Errorf("unknown complex type kind: %s", kind)
}

// richLeaf is soup-go's buildCtyValueFromJSON: main.go's builder plus the
// base64 spelling of the bytes capsule.
func richLeaf(ty cty.Type, raw json.RawMessage) (cty.Value, error) {
	if !ty.Equals(stdlib.Bytes) {
		return buildFromJSON(ty, raw)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var data interface{}
	if err := dec.Decode(&data); err != nil {
		return cty.NilVal, err
	}
	if data == nil {
		return cty.NullVal(ty), nil
	}
	s, ok := data.(string)
	if !ok {
		return cty.NilVal, fmt.Errorf("expected base64 string for bytes at ")
	}
	buf, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return cty.NilVal, fmt.Errorf("invalid base64 for bytes at : %w", err)
	}
	if buf == nil {
		buf = []byte{}
	}
	return stdlib.BytesVal(buf), nil
}

type richSentinel struct {
	key       string
	shape     func(json.RawMessage) error
	companion string
	required  bool
}

func shapeTrue(raw json.RawMessage) error {
	var b bool
	if err := json.Unmarshal(raw, &b); err != nil || !b {
		return fmt.Errorf("must be written as true, got %s", raw)
	}
	return nil
}

func shapeString(raw json.RawMessage) error {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return fmt.Errorf("must be a string, got %s", raw)
	}
	return nil
}

func shapeStrings(raw json.RawMessage) error {
	var s []string
	if err := json.Unmarshal(raw, &s); err != nil {
		return fmt.Errorf("must be a list of strings, got %s", raw)
	}
	return nil
}

func shapeObject(raw json.RawMessage) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return fmt.Errorf("must be an object, got %s", raw)
	}
	return nil
}

var richSentinels = []richSentinel{
	{key: "$null", shape: shapeTrue},
	{key: "$unknown", shape: shapeTrue, companion: "$refine"},
	{key: "$marks", shape: shapeStrings, companion: "$value", required: true},
	{key: "$bytes", shape: shapeString},
	{key: "$number", shape: shapeString},
	{key: "$dynamic", shape: shapeObject},
}

// richValue is soup-go's decodeRich.
func richValue(ty cty.Type, raw json.RawMessage) (cty.Value, error) {
	if string(bytes.TrimSpace(raw)) == "null" {
		return cty.NullVal(ty), nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err == nil && fields != nil {
		v, handled, err := richSentinelValue(ty, fields)
		if err != nil {
			return cty.NilVal, err
		}
		if handled {
			return v, nil
		}
		if ty.IsMapType() || ty.IsObjectType() {
			return richMapping(ty, fields)
		}
		if ty == cty.DynamicPseudoType {
			return richLeaf(ty, raw)
		}
		return cty.NilVal, fmt.Errorf("JSON object given for %s", ty.FriendlyName())
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err == nil {
		if ty.IsListType() || ty.IsSetType() || ty.IsTupleType() {
			return richSequence(ty, items)
		}
	}
	return richLeaf(ty, raw)
}

func richSentinelValue(ty cty.Type, fields map[string]json.RawMessage) (cty.Value, bool, error) {
	var spec *richSentinel
	for i := range richSentinels {
		if _, ok := fields[richSentinels[i].key]; !ok {
			continue
		}
		if spec != nil {
			return cty.NilVal, false, fmt.Errorf("both %s and %s given", spec.key, richSentinels[i].key)
		}
		spec = &richSentinels[i]
	}
	if spec == nil {
		return cty.NilVal, false, nil
	}
	if err := spec.shape(fields[spec.key]); err != nil {
		return cty.NilVal, false, fmt.Errorf("%s %w", spec.key, err)
	}
	if spec.required {
		if _, ok := fields[spec.companion]; !ok {
			return cty.NilVal, false, fmt.Errorf("%s given without %s", spec.key, spec.companion)
		}
	}
	var extra []string
	for k := range fields {
		if k != spec.key && (spec.companion == "" || k != spec.companion) {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return cty.NilVal, false, fmt.Errorf("%s cannot be written alongside %s", spec.key, strings.Join(extra, ", "))
	}
	switch spec.key {
	case "$null":
		return cty.NullVal(ty), true, nil
	case "$unknown":
		r, ok := fields["$refine"]
		if !ok {
			return cty.UnknownVal(ty), true, nil
		}
		v, err := refinedUnknown(ty, r)
		return v, true, err
	case "$marks":
		var names []string
		_ = json.Unmarshal(fields["$marks"], &names)
		v, err := richValue(ty, fields["$value"])
		if err != nil {
			return cty.NilVal, true, err
		}
		for _, n := range names {
			v = v.Mark(n)
		}
		return v, true, nil
	case "$bytes":
		var s string
		_ = json.Unmarshal(fields["$bytes"], &s)
		buf, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return cty.NilVal, true, fmt.Errorf("$bytes is not base64: %w", err)
		}
		if buf == nil {
			buf = []byte{}
		}
		return stdlib.BytesVal(buf), true, nil
	case "$number":
		var s string
		_ = json.Unmarshal(fields["$number"], &s)
		switch s {
		case "Infinity":
			return cty.PositiveInfinity, true, nil
		case "-Infinity":
			return cty.NegativeInfinity, true, nil
		}
		bf, _, err := big.ParseFloat(s, 10, 512, big.ToNearestEven)
		if err != nil {
			return cty.NilVal, true, fmt.Errorf("$number %q is not a number: %w", s, err)
		}
		return cty.NumberVal(bf), true, nil
	case "$dynamic":
		var env struct {
			Type  json.RawMessage `json:"type"`
			Value json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(fields["$dynamic"], &env); err != nil {
			return cty.NilVal, true, fmt.Errorf("$dynamic is not a {type, value} object: %w", err)
		}
		if len(env.Type) == 0 {
			return cty.NilVal, true, fmt.Errorf("$dynamic is missing a type")
		}
		dt, err := richType(env.Type)
		if err != nil {
			return cty.NilVal, true, fmt.Errorf("$dynamic type: %w", err)
		}
		v, err := richValue(dt, env.Value)
		return v, true, err
	}
	return cty.NilVal, false, fmt.Errorf("unhandled sentinel %s", spec.key)
}

func richSequence(ty cty.Type, items []json.RawMessage) (cty.Value, error) {
	vals := make([]cty.Value, len(items))
	for i, raw := range items {
		var et cty.Type
		if ty.IsTupleType() {
			if i >= len(ty.TupleElementTypes()) {
				return cty.NilVal, fmt.Errorf("tuple has %d elements, got %d", len(ty.TupleElementTypes()), len(items))
			}
			et = ty.TupleElementType(i)
		} else {
			et = ty.ElementType()
		}
		v, err := richValue(et, raw)
		if err != nil {
			return cty.NilVal, fmt.Errorf("element %d: %w", i, err)
		}
		vals[i] = v
	}
	switch {
	case ty.IsTupleType():
		if len(vals) != len(ty.TupleElementTypes()) {
			return cty.NilVal, fmt.Errorf("tuple has %d elements, got %d", len(ty.TupleElementTypes()), len(vals))
		}
		return cty.TupleVal(vals), nil
	case ty.IsSetType():
		if len(vals) == 0 {
			return cty.SetValEmpty(ty.ElementType()), nil
		}
		return cty.SetVal(vals), nil
	}
	if len(vals) == 0 {
		return cty.ListValEmpty(ty.ElementType()), nil
	}
	return cty.ListVal(vals), nil
}

func richMapping(ty cty.Type, fields map[string]json.RawMessage) (cty.Value, error) {
	vals := make(map[string]cty.Value, len(fields))
	for name, raw := range fields {
		var et cty.Type
		if ty.IsObjectType() {
			if !ty.HasAttribute(name) {
				return cty.NilVal, fmt.Errorf("type has no attribute %q", name)
			}
			et = ty.AttributeType(name)
		} else {
			et = ty.ElementType()
		}
		v, err := richValue(et, raw)
		if err != nil {
			return cty.NilVal, fmt.Errorf("%q: %w", name, err)
		}
		vals[name] = v
	}
	if ty.IsObjectType() {
		for name := range ty.AttributeTypes() {
			if _, ok := vals[name]; !ok {
				return cty.NilVal, fmt.Errorf("attribute %q was not given", name)
			}
		}
		return cty.ObjectVal(vals), nil
	}
	if len(vals) == 0 {
		return cty.MapValEmpty(ty.ElementType()), nil
	}
	return cty.MapVal(vals), nil
}
