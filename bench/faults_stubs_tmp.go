package main

func fdLimitScenario() faultScenario   { return faultScenario{Name: "fdlimit"} }
func resetScenario() faultScenario     { return faultScenario{Name: "resets"} }
func shutdownScenario() faultScenario  { return faultScenario{Name: "shutdown"} }
func burstScenario() faultScenario     { return faultScenario{Name: "burst"} }
