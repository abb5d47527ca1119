// The cty-package operations of soup-go's `cty` command (rich,
// unknown-as-null, marks, conformance, json, convert-value, walk,
// transform, msgpack, equals, unify), answered by go-cty itself for
// tests/conformance/cty. Each answer is the one JSON line soup-go prints,
// built here from go-cty's own results; the rich value dialect comes from
// call_rich.go.
//
// `opsbatch` reads one JSON array of command words per line (what follows
// `soup-go cty`) and writes one JSON object per line:
// {"rc": exit code, "stdout": what soup-go prints, "stderr": its first
// error line}. Only well-formed command lines are answered; the CLI's flag
// handling is tested against soup-go's own outputs instead.
//
// go-cty 1.12.1 lacks what the newer go-cty soup-go links has in places
// (refinements, Range, ctystrings, UnknownAsNull of marked values, ...);
// the test keeps those cases to its verified vectors
// (docs/internals/cty.md, "go-cty versions").
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function/stdlib"
	ctyjson "github.com/zclconf/go-cty/cty/json"
	ctymsgpack "github.com/zclconf/go-cty/cty/msgpack"
)

type opAnswer struct {
	RC     int    `json:"rc"`
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
}

// line is one soup-go answer: a JSON object and a newline.
func line(v any) opAnswer {
	b, err := json.Marshal(v)
	if err != nil {
		return opAnswer{RC: 1, Stderr: "Error: failed to encode result: " + err.Error()}
	}
	return opAnswer{Stdout: string(b) + "\n"}
}

func failed(msg string) opAnswer { return line(map[string]any{"ok": false, "error": msg}) }
func panicked(msg string) opAnswer {
	return line(map[string]any{"ok": false, "panic": msg})
}

// guard runs f, turning a go-cty panic into its text.
func guard(f func()) (p string) {
	defer func() {
		if r := recover(); r != nil {
			p = fmt.Sprintf("%v", r)
		}
	}()
	f()
	return ""
}

func sortedMarks(m cty.ValueMarks) []string {
	out := []string{}
	for k := range m {
		out = append(out, fmt.Sprint(k))
	}
	sort.Strings(out)
	return out
}

// richOut writes any value in the rich dialect.
func richOut(v cty.Value) (json.RawMessage, error) {
	if v.IsMarked() {
		inner, marks := v.Unmark()
		enc, err := richOut(inner)
		if err != nil {
			return nil, err
		}
		return json.Marshal(map[string]any{"$marks": sortedMarks(marks), "$value": enc})
	}
	if !v.IsKnown() {
		return json.RawMessage(`{"$unknown":true}`), nil // 1.12.1: no refinements
	}
	if v.IsNull() {
		return json.RawMessage(`{"$null":true}`), nil
	}
	ty := v.Type()
	switch {
	case ty.Equals(stdlib.Bytes):
		return json.Marshal(map[string]string{"$bytes": base64.StdEncoding.EncodeToString(*v.EncapsulatedValue().(*[]byte))})
	case ty == cty.String:
		return json.Marshal(v.AsString())
	case ty == cty.Bool:
		return json.Marshal(v.True())
	case ty == cty.Number:
		f := v.AsBigFloat()
		if f.IsInf() {
			if f.Sign() > 0 {
				return json.RawMessage(`{"$number":"Infinity"}`), nil
			}
			return json.RawMessage(`{"$number":"-Infinity"}`), nil
		}
		return json.RawMessage(f.Text('f', -1)), nil
	case ty.IsListType() || ty.IsSetType() || ty.IsTupleType():
		items := []json.RawMessage{}
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			enc, err := richOut(e)
			if err != nil {
				return nil, err
			}
			items = append(items, enc)
		}
		return json.Marshal(items)
	case ty.IsMapType() || ty.IsObjectType():
		fields := map[string]json.RawMessage{}
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			name := k.AsString()
			if strings.HasPrefix(name, "$") {
				return nil, fmt.Errorf("key %q cannot be expressed: it collides with a rich-value sentinel", name)
			}
			enc, err := richOut(e)
			if err != nil {
				return nil, err
			}
			fields[name] = enc
		}
		return json.Marshal(fields)
	}
	return nil, fmt.Errorf("no rich encoding for %s", ty.FriendlyName())
}

// typeOut is soup-go's spelling of a result type ("bytes" for the capsule).
func typeOut(ty cty.Type) (json.RawMessage, error) {
	if ty.Equals(stdlib.Bytes) {
		return json.RawMessage(`"bytes"`), nil
	}
	return ctyjson.MarshalType(ty)
}

func pathOut(p cty.Path) ([]any, error) {
	steps := []any{}
	for _, s := range p {
		switch s := s.(type) {
		case cty.GetAttrStep:
			steps = append(steps, map[string]any{"attr": s.Name})
		case cty.IndexStep:
			k, err := richOut(s.Key)
			if err != nil {
				return nil, err
			}
			steps = append(steps, map[string]any{"index": k})
		}
	}
	return steps, nil
}

// typedArg is a --type flag and a rich value, with soup-go's prefixes.
func typedArg(tyJSON, valJSON string) (cty.Value, error) {
	ty, err := richType(json.RawMessage(tyJSON))
	if err != nil {
		return cty.NilVal, fmt.Errorf("failed to parse type: %w", err)
	}
	v, err := richValue(ty, json.RawMessage(valJSON))
	if err != nil {
		return cty.NilVal, fmt.Errorf("failed to build value: %w", err)
	}
	return v, nil
}

// opFlags splits well-formed command words into flags and arguments.
func opFlags(words []string) (map[string]string, []string) {
	flags, args := map[string]string{}, []string{}
	for i := 0; i < len(words); i++ {
		w := words[i]
		if w == "--" {
			args = append(args, words[i+1:]...)
			break
		}
		if strings.HasPrefix(w, "--") {
			name := w[2:]
			if eq := strings.IndexByte(name, '='); eq >= 0 {
				flags[name[:eq]] = name[eq+1:]
			} else if name == "safe" {
				flags[name] = "true"
			} else if i+1 < len(words) {
				flags[name] = words[i+1]
				i++
			}
			continue
		}
		args = append(args, w)
	}
	return flags, args
}

func valueAndType(v cty.Value, ty cty.Type) opAnswer {
	enc, err := richOut(v)
	if err != nil {
		return failed(err.Error())
	}
	t, err := typeOut(ty)
	if err != nil {
		return failed(err.Error())
	}
	return line(map[string]any{"ok": true, "value": enc, "type": t})
}

func opRich(f map[string]string, a []string) opAnswer {
	v, err := typedArg(f["type"], a[0])
	if err != nil {
		return failed(err.Error())
	}
	enc, err := richOut(v)
	if err != nil {
		return failed(err.Error())
	}
	return line(map[string]any{"ok": true, "value": enc, "go_string": v.GoString()})
}

func opUnknownAsNull(f map[string]string, a []string) opAnswer {
	v, err := typedArg(f["type"], a[0])
	if err != nil {
		return failed(err.Error())
	}
	var r cty.Value
	if p := guard(func() { r = cty.UnknownAsNull(v) }); p != "" {
		return panicked(p)
	}
	return valueAndType(r, r.Type())
}

func opMarks(f map[string]string, a []string) opAnswer {
	v, err := typedArg(f["type"], a[0])
	if err != nil {
		return failed(err.Error())
	}
	unmarked, pvm := v.UnmarkDeepWithPaths()
	paths := []any{}
	for _, e := range pvm {
		steps, err := pathOut(e.Path)
		if err != nil {
			return failed(err.Error())
		}
		paths = append(paths, map[string]any{"path": steps, "marks": sortedMarks(e.Marks)})
	}
	enc, err := richOut(unmarked)
	if err != nil {
		return failed(err.Error())
	}
	return line(map[string]any{"ok": true, "unmarked": enc, "paths": paths,
		"round_trip_equal": unmarked.MarkWithPaths(pvm).RawEquals(v)})
}

func opConformance(f map[string]string, a []string) opAnswer {
	given, err := richType(json.RawMessage(f["given"]))
	if err != nil {
		return failed("given: " + err.Error())
	}
	want, err := richType(json.RawMessage(f["want"]))
	if err != nil {
		return failed("want: " + err.Error())
	}
	errs := given.TestConformance(want)
	list := []any{}
	for _, e := range errs {
		entry := map[string]any{"message": e.Error()}
		if pe, ok := e.(cty.PathError); ok {
			steps, err := pathOut(pe.Path)
			if err != nil {
				return failed(err.Error())
			}
			entry["path"] = steps
		}
		list = append(list, entry)
	}
	return line(map[string]any{"ok": true, "conforms": len(errs) == 0, "errors": list})
}

func typeAndRich(tyJSON, valJSON string) (cty.Type, cty.Value, error) {
	ty, err := richType(json.RawMessage(tyJSON))
	if err != nil {
		return cty.NilType, cty.NilVal, err
	}
	v, err := richValue(ty, json.RawMessage(valJSON))
	return ty, v, err
}

func opJSON(sub string, f map[string]string, a []string) opAnswer {
	switch sub {
	case "marshal":
		ty, v, err := typeAndRich(f["type"], a[0])
		if err != nil {
			return failed(err.Error())
		}
		var b []byte
		var merr error
		if p := guard(func() { b, merr = ctyjson.Marshal(v, ty) }); p != "" {
			return panicked(p)
		}
		if merr != nil {
			return failed(merr.Error())
		}
		return line(map[string]any{"ok": true, "json": json.RawMessage(b), "text": string(b)})
	case "unmarshal":
		ty, err := richType(json.RawMessage(f["type"]))
		if err != nil {
			return failed(err.Error())
		}
		var v cty.Value
		var uerr error
		if p := guard(func() { v, uerr = ctyjson.Unmarshal([]byte(a[0]), ty) }); p != "" {
			return panicked(p)
		}
		if uerr != nil {
			return failed(uerr.Error())
		}
		return valueAndType(v, v.Type())
	default: // implied-type
		var ty cty.Type
		var ierr error
		if p := guard(func() { ty, ierr = ctyjson.ImpliedType([]byte(a[0])) }); p != "" {
			return panicked(p)
		}
		if ierr != nil {
			return failed(ierr.Error())
		}
		t, err := typeOut(ty)
		if err != nil {
			return failed(err.Error())
		}
		return line(map[string]any{"ok": true, "type": t})
	}
}

func opConvertValue(f map[string]string, a []string) opAnswer {
	from, err := richType(json.RawMessage(f["from"]))
	if err != nil {
		return failed("from: " + err.Error())
	}
	to, err := richType(json.RawMessage(f["to"]))
	if err != nil {
		return failed("to: " + err.Error())
	}
	v, err := richValue(from, json.RawMessage(a[0]))
	if err != nil {
		return failed(err.Error())
	}
	same := from.Equals(to.WithoutOptionalAttributesDeep())
	out := map[string]any{
		"safe":             same || convert.GetConversion(from, to) != nil,
		"unsafe":           same || convert.GetConversionUnsafe(from, to) != nil,
		"mismatch_message": convert.MismatchMessage(from, to),
		"ok":               false,
	}
	var r cty.Value
	var cerr error
	if p := guard(func() { r, cerr = convert.Convert(v, to) }); p != "" {
		out["panic"] = p
		return line(out)
	}
	if cerr != nil {
		out["error"] = cerr.Error()
		return line(out)
	}
	enc, err := richOut(r)
	if err == nil {
		var t json.RawMessage
		if t, err = typeOut(r.Type()); err == nil {
			out["ok"], out["value"], out["type"] = true, enc, t
			return line(out)
		}
	}
	out["error"] = err.Error()
	return line(out)
}

func opWalk(f map[string]string, a []string) opAnswer {
	v, err := typedArg(f["type"], a[0])
	if err != nil {
		return failed(err.Error())
	}
	prune := -1
	if s, ok := f["prune-depth"]; ok {
		n, err := strconv.ParseInt(s, 0, 64)
		if err != nil {
			return opAnswer{RC: 1, Stderr: "Error: bad --prune-depth"}
		}
		prune = int(n)
	}
	visits := []any{}
	werr := cty.Walk(v, func(p cty.Path, e cty.Value) (bool, error) {
		steps, err := pathOut(p)
		if err != nil {
			return false, err
		}
		enc, err := richOut(e)
		if err != nil {
			return false, err
		}
		plain, _ := e.Unmark()
		t, err := typeOut(plain.Type())
		if err != nil {
			return false, err
		}
		visits = append(visits, map[string]any{"path": steps, "value": enc, "type": t})
		return !(prune >= 0 && len(p) >= prune), nil
	})
	if werr != nil {
		return failed(werr.Error())
	}
	return line(map[string]any{"ok": true, "visits": visits})
}

func opTransform(f map[string]string, a []string) opAnswer {
	var rewrite func(cty.Value) cty.Value
	switch f["op"] {
	case "upper":
		rewrite = func(v cty.Value) cty.Value {
			plain, marks := v.Unmark()
			if plain.Type() != cty.String || plain.IsNull() || !plain.IsKnown() {
				return v
			}
			return cty.StringVal(strings.ToUpper(plain.AsString())).WithMarks(marks)
		}
	case "unknown-to-null":
		rewrite = func(v cty.Value) cty.Value {
			plain, marks := v.Unmark()
			if plain.IsKnown() {
				return v
			}
			return cty.NullVal(plain.Type()).WithMarks(marks)
		}
	default:
		return opAnswer{RC: 1, Stderr: fmt.Sprintf("Error: unknown op %q; known: unknown-to-null, upper", f["op"])}
	}
	v, err := typedArg(f["type"], a[0])
	if err != nil {
		return failed(err.Error())
	}
	var r cty.Value
	var terr error
	if p := guard(func() {
		r, terr = cty.Transform(v, func(_ cty.Path, e cty.Value) (cty.Value, error) { return rewrite(e), nil })
	}); p != "" {
		return panicked(p)
	}
	if terr != nil {
		return failed(terr.Error())
	}
	plain, _ := r.Unmark()
	return valueAndType(r, plain.Type())
}

func opMsgpack(sub string, f map[string]string, a []string) opAnswer {
	if sub == "encode" {
		ty, v, err := typeAndRich(f["type"], a[0])
		if err != nil {
			return failed(err.Error())
		}
		var b []byte
		var merr error
		if p := guard(func() { b, merr = ctymsgpack.Marshal(v, ty) }); p != "" {
			return panicked(p)
		}
		if merr != nil {
			return failed(merr.Error())
		}
		return line(map[string]any{"ok": true, "base64": base64.StdEncoding.EncodeToString(b), "hex": hex.EncodeToString(b)})
	}
	ty, err := richType(json.RawMessage(f["type"]))
	if err != nil {
		return failed(err.Error())
	}
	raw, err := base64.StdEncoding.DecodeString(a[0])
	if err != nil {
		return failed("not base64: " + err.Error())
	}
	var v cty.Value
	var uerr error
	if p := guard(func() { v, uerr = ctymsgpack.Unmarshal(raw, ty) }); p != "" {
		return panicked(p)
	}
	if uerr != nil {
		return failed(uerr.Error())
	}
	enc, err := richOut(v)
	if err != nil {
		return failed(err.Error())
	}
	return line(map[string]any{"ok": true, "value": enc})
}

func opEquals(f map[string]string, a []string) opAnswer {
	l, err := typedArg(f["left-type"], a[0])
	if err != nil {
		return failed("left: " + err.Error())
	}
	r, err := typedArg(f["right-type"], a[1])
	if err != nil {
		return failed("right: " + err.Error())
	}
	var eq cty.Value
	if p := guard(func() { eq = l.Equals(r) }); p != "" {
		return panicked(p)
	}
	plain, marks := eq.Unmark()
	desc := map[string]any{"known": plain.IsKnown()}
	if plain.IsKnown() {
		desc["value"] = plain.True()
	}
	if len(marks) > 0 {
		desc["marks"] = sortedMarks(marks)
	}
	var raw bool
	if p := guard(func() { raw = l.RawEquals(r) }); p != "" {
		return panicked(p)
	}
	return line(map[string]any{"ok": true, "equals": desc, "raw_equals": raw})
}

// opUnify answers with the field order of soup-go's result struct.
func opUnify(f map[string]string, a []string) opAnswer {
	safe := f["safe"] == "true"
	types := []cty.Type{}
	for i, s := range a {
		ty, err := richType(json.RawMessage(s))
		if err != nil {
			return opAnswer{RC: 1, Stderr: fmt.Sprintf("Error: type %d: %s", i, err)}
		}
		types = append(types, ty)
	}
	var u cty.Type
	if safe {
		u, _ = convert.Unify(types)
	} else {
		u, _ = convert.UnifyUnsafe(types)
	}
	out := struct {
		Unified json.RawMessage `json:"unified,omitempty"`
		Unsafe  bool            `json:"unsafe"`
		OK      bool            `json:"ok"`
		Error   string          `json:"error,omitempty"`
	}{Unsafe: !safe, OK: true}
	if u != cty.NilType {
		t, err := typeOut(u)
		if err != nil {
			out.OK, out.Error = false, "unified type is not representable as JSON: "+err.Error()
		} else {
			out.Unified = t
		}
	}
	return line(out)
}

func runOp(words []string) opAnswer {
	if len(words) == 0 {
		return opAnswer{RC: 1, Stderr: "Error: no command"}
	}
	cmd, rest := words[0], words[1:]
	sub := ""
	if (cmd == "json" || cmd == "msgpack") && len(rest) > 0 {
		sub, rest = rest[0], rest[1:]
	}
	f, a := opFlags(rest)
	need := map[string]int{"rich": 1, "unknown-as-null": 1, "marks": 1, "json": 1, "convert-value": 1,
		"walk": 1, "transform": 1, "msgpack": 1, "equals": 2, "conformance": 0, "unify": 1}
	n, known := need[cmd]
	if !known {
		return opAnswer{RC: 1, Stderr: "Error: the oracle does not answer " + cmd}
	}
	if len(a) < n {
		return opAnswer{RC: 1, Stderr: "Error: missing arguments"}
	}
	switch cmd {
	case "rich":
		return opRich(f, a)
	case "unknown-as-null":
		return opUnknownAsNull(f, a)
	case "marks":
		return opMarks(f, a)
	case "conformance":
		return opConformance(f, a)
	case "json":
		return opJSON(sub, f, a)
	case "convert-value":
		return opConvertValue(f, a)
	case "walk":
		return opWalk(f, a)
	case "transform":
		return opTransform(f, a)
	case "msgpack":
		return opMsgpack(sub, f, a)
	case "equals":
		return opEquals(f, a)
	default:
		return opUnify(f, a)
	}
}

// opsBatch answers command lines from stdin, one per line.
func opsBatch() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	for in.Scan() {
		var words []string
		var ans opAnswer
		if err := json.Unmarshal(in.Bytes(), &words); err != nil {
			ans = opAnswer{RC: 1, Stderr: "Error: bad request: " + err.Error()}
		} else if p := guard(func() { ans = runOp(words) }); p != "" {
			ans = opAnswer{RC: 2, Stderr: "panic: " + p}
		}
		enc.Encode(ans)
		out.Flush()
	}
}
