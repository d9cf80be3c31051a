package main

import (
	"fmt"
	"math"
)

// Number formats for the -tls and -ws-idle tables; NaN (no figure) is "–".

func fmtNum(v float64, prec int) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.*f", prec, v)
}

func fmtMiBf(b float64) string {
	if math.IsNaN(b) {
		return "–"
	}
	return fmt.Sprintf("%.1f MiB", b/(1<<20))
}

func fmtKiBf(b float64) string {
	if math.IsNaN(b) {
		return "–"
	}
	return fmt.Sprintf("%.1f KiB", b/(1<<10))
}
