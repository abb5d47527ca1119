// soupc-cty-oracle: the go-cty reference for soup-c's cty conformance
// tests and benchmark. Built offline in GOPATH mode from Debian's
// golang-github-zclconf-go-cty-dev (1.12.1) and vmihailenco msgpack
// (peers/go-cty/build.sh).
//
// Values are built the way TofuSoup's soup-go builds them for `wire encode`
// (wire-cty-spec.md §1.3 (a)); panics become errors.
//
// Usage:
//
//	soupc-cty-oracle wire encode - --type T [--output-format json]
//	soupc-cty-oracle batch        # JSON lines in, JSON lines out
//	soupc-cty-oracle bench --type T --iterations N < value.json
package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"os"
	"sort"
	"time"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	ctyjson "github.com/zclconf/go-cty/cty/json"
	ctymsgpack "github.com/zclconf/go-cty/cty/msgpack"
)

func parseExactNumber(s string) (cty.Value, error) {
	f, _, err := big.ParseFloat(s, 10, 512, big.ToNearestEven)
	if err != nil {
		return cty.NilVal, fmt.Errorf("%q is not a number: %w", s, err)
	}
	return cty.NumberVal(f), nil
}

func build(ty cty.Type, data interface{}, path string) (v cty.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	if data == nil {
		return cty.NullVal(ty), nil
	}
	switch {
	case ty == cty.DynamicPseudoType:
		return cty.NilVal, fmt.Errorf("cannot build value for type dynamic at %s", path)
	case ty == cty.String:
		s, ok := data.(string)
		if !ok {
			return cty.NilVal, fmt.Errorf("expected string at %s", path)
		}
		return cty.StringVal(s), nil
	case ty == cty.Number:
		switch n := data.(type) {
		case json.Number:
			return parseExactNumber(string(n))
		case string:
			return parseExactNumber(n)
		}
		return cty.NilVal, fmt.Errorf("expected number at %s", path)
	case ty == cty.Bool:
		b, ok := data.(bool)
		if !ok {
			return cty.NilVal, fmt.Errorf("expected bool at %s", path)
		}
		return cty.BoolVal(b), nil
	case ty.IsListType(), ty.IsSetType(), ty.IsTupleType():
		arr, ok := data.([]interface{})
		if !ok {
			return cty.NilVal, fmt.Errorf("expected array at %s", path)
		}
		if ty.IsTupleType() && len(arr) != len(ty.TupleElementTypes()) {
			return cty.NilVal, fmt.Errorf("tuple length mismatch at %s", path)
		}
		vals := make([]cty.Value, len(arr))
		for i, e := range arr {
			var et cty.Type
			if ty.IsTupleType() {
				et = ty.TupleElementTypes()[i]
			} else {
				et = ty.ElementType()
			}
			ev, err := build(et, e, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return cty.NilVal, err
			}
			vals[i] = ev
		}
		switch {
		case ty.IsTupleType():
			return cty.TupleVal(vals), nil
		case len(vals) == 0 && ty.IsListType():
			return cty.ListValEmpty(ty.ElementType()), nil
		case len(vals) == 0:
			return cty.SetValEmpty(ty.ElementType()), nil
		case ty.IsListType():
			return cty.ListVal(vals), nil
		default:
			return cty.SetVal(vals), nil
		}
	case ty.IsMapType(), ty.IsObjectType():
		obj, ok := data.(map[string]interface{})
		if !ok {
			return cty.NilVal, fmt.Errorf("expected object at %s", path)
		}
		vals := map[string]cty.Value{}
		for k, e := range obj {
			var et cty.Type
			if ty.IsMapType() {
				et = ty.ElementType()
			} else {
				if !ty.HasAttribute(k) {
					return cty.NilVal, fmt.Errorf("no such attribute %q", k)
				}
				et = ty.AttributeType(k)
			}
			ev, err := build(et, e, k)
			if err != nil {
				return cty.NilVal, err
			}
			vals[k] = ev
		}
		if ty.IsMapType() {
			if len(vals) == 0 {
				return cty.MapValEmpty(ty.ElementType()), nil
			}
			return cty.MapVal(vals), nil
		}
		return cty.ObjectVal(vals), nil
	}
	return cty.NilVal, fmt.Errorf("unsupported type %s", ty.FriendlyName())
}

// buildFromJSON is soup-go's buildCtyValueFromJSON.
func buildFromJSON(ty cty.Type, raw []byte) (cty.Value, error) {
	if ty == cty.DynamicPseudoType {
		it, err := ctyjson.ImpliedType(raw)
		if err != nil {
			return cty.NilVal, err
		}
		return ctyjson.Unmarshal(raw, it)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var data interface{}
	if err := dec.Decode(&data); err != nil {
		return cty.NilVal, err
	}
	return build(ty, data, "")
}

func safe(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return f()
}

type request struct {
	Op    string          `json:"op"` // encode (soup-go builder), jsonin, decode (msgpack hex)
	Type  json.RawMessage `json:"type"`
	Value string          `json:"value"`
}

type response struct {
	MP   string `json:"mp,omitempty"`
	JSON string `json:"json,omitempty"`
	Err  string `json:"err,omitempty"`
	JErr string `json:"jerr,omitempty"`
}

func handle(req request) (resp response) {
	var ty cty.Type
	if err := safe(func() error { return ty.UnmarshalJSON(req.Type) }); err != nil {
		resp.Err = "type: " + err.Error()
		return
	}
	var v cty.Value
	err := safe(func() error {
		var err error
		switch req.Op {
		case "encode":
			v, err = buildFromJSON(ty, []byte(req.Value))
		case "jsonin":
			v, err = ctyjson.Unmarshal([]byte(req.Value), ty)
		case "decode":
			var b []byte
			b, err = hex.DecodeString(req.Value)
			if err == nil {
				v, err = ctymsgpack.Unmarshal(b, ty)
			}
		default:
			err = fmt.Errorf("unknown op %q", req.Op)
		}
		return err
	})
	if err != nil {
		resp.Err = err.Error()
		return
	}
	if err := safe(func() error {
		b, err := ctymsgpack.Marshal(v, ty)
		if err == nil {
			resp.MP = hex.EncodeToString(b)
		}
		return err
	}); err != nil {
		resp.Err = err.Error()
	}
	if err := safe(func() error {
		b, err := ctyjson.Marshal(v, ty)
		if err == nil {
			resp.JSON = string(b)
		}
		return err
	}); err != nil {
		resp.JErr = err.Error()
	}
	return
}

func batch() {
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for {
		line, err := in.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			var req request
			if jerr := json.Unmarshal(line, &req); jerr != nil {
				enc.Encode(response{Err: "request: " + jerr.Error()})
			} else {
				enc.Encode(handle(req))
			}
			out.Flush()
		}
		if err != nil {
			return
		}
	}
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "Error: "+format+"\n", args...)
	os.Exit(1)
}

func flagValue(args []string, name, def string) string {
	for i, a := range args {
		if a == name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return def
}

func main() {
	args := os.Args[1:]
	if len(args) >= 1 && args[0] == "batch" {
		batch()
		return
	}
	if len(args) >= 2 && args[0] == "wire" && args[1] == "encode" {
		raw, err := io.ReadAll(os.Stdin)
		if err != nil {
			fail("failed to read input: %v", err)
		}
		var ty cty.Type
		if err := ty.UnmarshalJSON([]byte(flagValue(args, "--type", ""))); err != nil {
			fail("failed to parse type: %v", err)
		}
		v, err := buildFromJSON(ty, raw)
		if err != nil {
			fail("failed to build value: %v", err)
		}
		if flagValue(args, "--output-format", "msgpack") == "json" {
			b, err := ctyjson.Marshal(v, ty)
			if err != nil {
				fail("failed to encode: %v", err)
			}
			os.Stdout.Write(b)
			return
		}
		b, err := ctymsgpack.Marshal(v, ty)
		if err != nil {
			fail("failed to encode: %v", err)
		}
		os.Stdout.WriteString(base64.StdEncoding.EncodeToString(b))
		return
	}
	if len(args) >= 1 && args[0] == "bench" {
		benchMain(args)
		return
	}
	if len(args) >= 1 && args[0] == "opsbatch" {
		opsBatch()
		return
	}
	fail("usage: soupc-cty-oracle batch | wire encode - --type T | bench --type T --iterations N")
}

// bench times N runs each of: msgpack Marshal and Unmarshal of the value;
// convert.Convert of the value read as plain JSON (json.ImpliedType) to the
// schema type; UnifyUnsafe of the implied types of every resource and data
// source schema (bench/cty/bench_cty.c does the same). Prints
// "encode_ns <total> decode_ns <total> convert_ns <total> unify_ns <total>
// bytes <len>".
func benchMain(args []string) {
	raw, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail("read: %v", err)
	}
	var ty cty.Type
	if err := ty.UnmarshalJSON([]byte(flagValue(args, "--type", ""))); err != nil {
		fail("type: %v", err)
	}
	var n int
	fmt.Sscanf(flagValue(args, "--iterations", "1000"), "%d", &n)
	v, err := buildFromJSON(ty, raw)
	if err != nil {
		fail("build: %v", err)
	}
	b, err := ctymsgpack.Marshal(v, ty)
	if err != nil {
		fail("marshal: %v", err)
	}
	implied, err := ctyjson.ImpliedType(raw)
	if err != nil {
		fail("implied type: %v", err)
	}
	jv, err := ctyjson.Unmarshal(raw, implied)
	if err != nil {
		fail("unmarshal: %v", err)
	}
	var members []cty.Type
	for _, group := range []string{"data_source_schemas", "resource_schemas"} {
		if !implied.HasAttribute(group) {
			continue
		}
		atys := implied.AttributeType(group).AttributeTypes()
		names := make([]string, 0, len(atys))
		for name := range atys {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			members = append(members, atys[name])
		}
	}
	start := time.Now()
	for i := 0; i < n; i++ {
		if _, err := ctymsgpack.Marshal(v, ty); err != nil {
			fail("marshal: %v", err)
		}
	}
	enc := time.Since(start)
	start = time.Now()
	for i := 0; i < n; i++ {
		if _, err := ctymsgpack.Unmarshal(b, ty); err != nil {
			fail("unmarshal: %v", err)
		}
	}
	dec := time.Since(start)
	start = time.Now()
	for i := 0; i < n; i++ {
		if _, err := convert.Convert(jv, ty); err != nil {
			fail("convert: %v", err)
		}
	}
	conv := time.Since(start)
	start = time.Now()
	for i := 0; i < n; i++ {
		if u, _ := convert.UnifyUnsafe(members); u == cty.NilType {
			fail("unify found no type")
		}
	}
	unify := time.Since(start)
	fmt.Printf("encode_ns %d decode_ns %d convert_ns %d unify_ns %d bytes %d\n",
		enc.Nanoseconds(), dec.Nanoseconds(), conv.Nanoseconds(), unify.Nanoseconds(), len(b))
}
