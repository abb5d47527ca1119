//go:build !cty113

// Debian's go-cty 1.12.1 predates refinements (1.13) and AssertNotNull
// (1.14): refined arguments are refused and results carry no refinements.
// soup-c follows go-cty 1.19 there; the differential test checks those cases
// against the recorded vectors instead (docs/internals/cty-function.md).
package main

import (
	"encoding/json"
	"fmt"

	"github.com/zclconf/go-cty/cty"
)

const oracleHasRefinements = false

func refinedUnknown(ty cty.Type, raw json.RawMessage) (cty.Value, error) {
	return cty.NilVal, fmt.Errorf("$refine needs go-cty >= 1.13; this oracle links 1.12.1")
}

func resultRefinements(v cty.Value) map[string]any {
	return nil
}
