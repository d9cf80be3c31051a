package main

func shutdownScenario() faultScenario  { return faultScenario{Name: "shutdown"} }
func burstScenario() faultScenario     { return faultScenario{Name: "burst"} }
