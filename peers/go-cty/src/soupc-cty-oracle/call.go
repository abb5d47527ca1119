// `cty call` and `cty functions` for the go-cty oracle: go-cty's own
// cty/function/stdlib behind TofuSoup soup-go's command surface, so soup-c's
// `soup-c cty call` output can be compared with go-cty byte for byte.
//
// The output line is the one soup-go prints (src/tofusoup/harness/go/soup-go/
// cty_call.go at tofusoup d6afa28): Go json.Marshal of a struct with the
// fields function, ok, error, type, value, unknown, null, marks, refine,
// msgpack in that order. Debian's go-cty 1.12.1 has no refinements and no
// AssertNotNull; call_cty112.go and call_cty113.go fill that gap (see
// docs/internals/cty-function.md, "Oracle").
//
// Commands (intercepted in init, before main.go's dispatch):
//
//	soupc-cty-oracle cty call FN [ARG...]   one result line, as soup-go
//	soupc-cty-oracle cty functions          the sorted JSON list of names
//	soupc-cty-oracle callbatch              JSON lines ["fn", arg, ...] in,
//	                                        one result line out per request
//	soupc-cty-oracle callbench N            the mixed benchmark workload
package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
	ctyjson "github.com/zclconf/go-cty/cty/json"
	ctymsgpack "github.com/zclconf/go-cty/cty/msgpack"
)

// callFunctions is soup-go's table: go-cty's stdlib under the names
// pyvider.cty uses. assertnotnull joins it in call_cty113.go.
var callFunctions = map[string]function.Function{
	"strlen": stdlib.StrlenFunc, "upper": stdlib.UpperFunc,
	"lower": stdlib.LowerFunc, "title": stdlib.TitleFunc,
	"trimspace": stdlib.TrimSpaceFunc, "trim": stdlib.TrimFunc,
	"trimprefix": stdlib.TrimPrefixFunc, "trimsuffix": stdlib.TrimSuffixFunc,
	"chomp": stdlib.ChompFunc, "indent": stdlib.IndentFunc,
	"join": stdlib.JoinFunc, "split": stdlib.SplitFunc,
	"replace": stdlib.ReplaceFunc, "regexreplace": stdlib.RegexReplaceFunc,
	"regex": stdlib.RegexFunc, "regexall": stdlib.RegexAllFunc,
	"substr": stdlib.SubstrFunc, "strrev": stdlib.ReverseFunc,
	"format": stdlib.FormatFunc, "formatlist": stdlib.FormatListFunc,

	"length": stdlib.LengthFunc, "element": stdlib.ElementFunc,
	"index": stdlib.IndexFunc, "contains": stdlib.ContainsFunc,
	"distinct": stdlib.DistinctFunc, "chunklist": stdlib.ChunklistFunc,
	"flatten": stdlib.FlattenFunc, "keys": stdlib.KeysFunc,
	"values": stdlib.ValuesFunc, "lookup": stdlib.LookupFunc,
	"merge": stdlib.MergeFunc, "coalescelist": stdlib.CoalesceListFunc,
	"compact": stdlib.CompactFunc, "concat": stdlib.ConcatFunc,
	"range": stdlib.RangeFunc, "reverselist": stdlib.ReverseListFunc,
	"setproduct": stdlib.SetProductFunc, "slice": stdlib.SliceFunc,
	"sort": stdlib.SortFunc, "zipmap": stdlib.ZipmapFunc,
	"hasindex": stdlib.HasIndexFunc,

	"setunion": stdlib.SetUnionFunc, "setintersection": stdlib.SetIntersectionFunc,
	"setsubtract":            stdlib.SetSubtractFunc,
	"setsymmetricdifference": stdlib.SetSymmetricDifferenceFunc,
	"sethaselement":          stdlib.SetHasElementFunc,

	"byteslen": stdlib.BytesLenFunc, "bytesslice": stdlib.BytesSliceFunc,

	"tostring": stdlib.MakeToFunc(cty.String),
	"tonumber": stdlib.MakeToFunc(cty.Number),
	"tobool":   stdlib.MakeToFunc(cty.Bool),

	"abs": stdlib.AbsoluteFunc, "add": stdlib.AddFunc,
	"subtract": stdlib.SubtractFunc, "multiply": stdlib.MultiplyFunc,
	"divide": stdlib.DivideFunc, "modulo": stdlib.ModuloFunc,
	"negate": stdlib.NegateFunc, "pow": stdlib.PowFunc, "log": stdlib.LogFunc,
	"signum": stdlib.SignumFunc, "ceil": stdlib.CeilFunc,
	"floor": stdlib.FloorFunc, "int": stdlib.IntFunc, "min": stdlib.MinFunc,
	"max": stdlib.MaxFunc, "parseint": stdlib.ParseIntFunc,

	"equal": stdlib.EqualFunc, "notequal": stdlib.NotEqualFunc,
	"lessthan": stdlib.LessThanFunc, "lessthanorequalto": stdlib.LessThanOrEqualToFunc,
	"greaterthan":          stdlib.GreaterThanFunc,
	"greaterthanorequalto": stdlib.GreaterThanOrEqualToFunc,
	"and":                  stdlib.AndFunc, "or": stdlib.OrFunc, "not": stdlib.NotFunc,
	"coalesce": stdlib.CoalesceFunc,

	"jsonencode": stdlib.JSONEncodeFunc, "jsondecode": stdlib.JSONDecodeFunc,
	"csvdecode": stdlib.CSVDecodeFunc, "formatdate": stdlib.FormatDateFunc,
	"timeadd": stdlib.TimeAddFunc,
}

// callArg is the wire form of one argument (soup-go's callArg).
type callArg struct {
	Type    json.RawMessage `json:"type"`
	Value   json.RawMessage `json:"value"`
	Unknown bool            `json:"unknown,omitempty"`
	Null    bool            `json:"null,omitempty"`
	Marks   []string        `json:"marks,omitempty"`
}

// callOutput is the result line (soup-go's callResult): the field order and
// omitempty choices are the output format.
type callOutput struct {
	Function string          `json:"function"`
	OK       bool            `json:"ok"`
	Error    string          `json:"error,omitempty"`
	Type     json.RawMessage `json:"type,omitempty"`
	Value    json.RawMessage `json:"value,omitempty"`
	Unknown  bool            `json:"unknown"`
	Null     bool            `json:"null"`
	Marks    []string        `json:"marks,omitempty"`
	Refine   map[string]any  `json:"refine,omitempty"`
	Msgpack  string          `json:"msgpack,omitempty"`
}

func callArgValue(raw json.RawMessage) (cty.Value, error) {
	var arg callArg
	if err := json.Unmarshal(raw, &arg); err != nil {
		return cty.NilVal, fmt.Errorf("argument is not a {type, value} object: %w", err)
	}
	if len(arg.Type) == 0 {
		return cty.NilVal, fmt.Errorf("argument is missing a type")
	}
	ty, err := richType(arg.Type)
	if err != nil {
		return cty.NilVal, fmt.Errorf("failed to parse argument type: %w", err)
	}
	var val cty.Value
	switch {
	case arg.Unknown:
		val = cty.UnknownVal(ty)
	case arg.Null:
		val = cty.NullVal(ty)
	default:
		val, err = richValue(ty, arg.Value)
		if err != nil {
			return cty.NilVal, fmt.Errorf("failed to build argument value: %w", err)
		}
	}
	for _, m := range arg.Marks {
		val = val.Mark(m)
	}
	return val, nil
}

func resultTypeJSON(ty cty.Type) (json.RawMessage, error) {
	if ty.Equals(stdlib.Bytes) {
		return json.RawMessage(`"bytes"`), nil
	}
	return ctyjson.MarshalType(ty)
}

func resultValueJSON(v cty.Value) (json.RawMessage, error) {
	if !v.Type().Equals(stdlib.Bytes) {
		return ctyjson.Marshal(v, v.Type())
	}
	if v.IsNull() {
		return json.RawMessage(`null`), nil
	}
	buf, ok := v.EncapsulatedValue().(*[]byte)
	if !ok {
		return nil, fmt.Errorf("bytes value does not encapsulate a *[]byte")
	}
	return json.Marshal(base64.StdEncoding.EncodeToString(*buf))
}

func notRepresentable(name string, err error) callOutput {
	return callOutput{Function: name,
		Error: fmt.Sprintf("result is not representable as JSON: %s", err)}
}

func describeCall(name string, result cty.Value, callErr error) callOutput {
	out := callOutput{Function: name}
	if callErr != nil {
		out.Error = callErr.Error()
		return out
	}
	out.OK = true
	unmarked, marks := result.UnmarkDeep()
	for m := range marks {
		if s, ok := m.(string); ok {
			out.Marks = append(out.Marks, s)
		} else {
			out.Marks = append(out.Marks, fmt.Sprintf("%v", m))
		}
	}
	sort.Strings(out.Marks)

	out.Unknown = !unmarked.IsKnown()
	if out.Unknown {
		tj, err := resultTypeJSON(unmarked.Type())
		if err != nil {
			return notRepresentable(name, err)
		}
		out.Type = tj
		if r := resultRefinements(unmarked); len(r) > 0 {
			out.Refine = r
		}
		return out
	}
	out.Null = unmarked.IsNull()
	tj, err := resultTypeJSON(unmarked.Type())
	if err != nil {
		return notRepresentable(name, err)
	}
	out.Type = tj
	vj, err := resultValueJSON(unmarked)
	if err != nil {
		packed, perr := ctymsgpack.Marshal(unmarked, unmarked.Type())
		if perr != nil {
			return notRepresentable(name, err)
		}
		out.Msgpack = base64.StdEncoding.EncodeToString(packed)
		return out
	}
	out.Value = vj
	return out
}

func functionNames() []string {
	names := make([]string, 0, len(callFunctions))
	for k := range callFunctions {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// runCall is `cty call`: the result line, or a command error (exit 1).
func runCall(name string, rawArgs []string) (string, error) {
	fn, ok := callFunctions[name]
	if !ok {
		return "", fmt.Errorf("unknown function %q; known: %s", name,
			strings.Join(functionNames(), ", "))
	}
	args := make([]cty.Value, 0, len(rawArgs))
	for i, raw := range rawArgs {
		v, err := callArgValue(json.RawMessage(raw))
		if err != nil {
			return "", fmt.Errorf("argument %d: %w", i, err)
		}
		args = append(args, v)
	}
	result, callErr := fn.Call(args)
	b, err := json.Marshal(describeCall(name, result, callErr))
	if err != nil {
		return "", fmt.Errorf("failed to encode result: %w", err)
	}
	return string(b), nil
}

// safeCall turns an oracle panic (soup-go would die with exit 2) into a
// reportable line for the batch mode.
func safeCall(name string, rawArgs []string) (line string, err error) {
	defer func() {
		if r := recover(); r != nil {
			line, err = "", fmt.Errorf("PANIC: %v", r)
		}
	}()
	return runCall(name, rawArgs)
}

// callBatch reads ["fn", arg, ...] JSON lines and answers each with the
// result line, or {"cmd_error":"...","panic":bool} for what soup-go reports
// on stderr (exit 1) or dies of (exit 2).
func callBatch() {
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	out := bufio.NewWriter(os.Stdout)
	for {
		line, rerr := in.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			var req []json.RawMessage
			var name string
			var res string
			var err error
			if jerr := json.Unmarshal(line, &req); jerr != nil || len(req) == 0 {
				err = fmt.Errorf("bad request: %v", jerr)
			} else if jerr := json.Unmarshal(req[0], &name); jerr != nil {
				err = fmt.Errorf("bad request: %v", jerr)
			} else {
				raw := make([]string, len(req)-1)
				for i, r := range req[1:] {
					raw[i] = string(r)
				}
				res, err = safeCall(name, raw)
			}
			if err != nil {
				msg := err.Error()
				b, _ := json.Marshal(map[string]any{
					"cmd_error": strings.TrimPrefix(msg, "PANIC: "),
					"panic":     strings.HasPrefix(msg, "PANIC: "),
				})
				res = string(b)
			}
			out.WriteString(res)
			out.WriteByte('\n')
			out.Flush()
		}
		if rerr != nil {
			return
		}
	}
}

func init() {
	a := os.Args[1:]
	switch {
	case len(a) >= 2 && a[0] == "cty" && a[1] == "call":
		if len(a) < 3 {
			fmt.Fprintln(os.Stderr, "Error: requires at least 1 arg(s), only received 0")
			os.Exit(1)
		}
		line, err := runCall(a[2], a[3:])
		if err != nil {
			fmt.Fprintln(os.Stderr, "Error: "+err.Error())
			os.Exit(1)
		}
		fmt.Println(line)
		os.Exit(0)
	case len(a) >= 2 && a[0] == "cty" && a[1] == "functions":
		b, _ := json.Marshal(functionNames())
		fmt.Println(string(b))
		os.Exit(0)
	case len(a) >= 1 && a[0] == "callbatch":
		callBatch()
		os.Exit(0)
	case len(a) >= 1 && a[0] == "callbench":
		callBench(a[1:])
		os.Exit(0)
	}
}
