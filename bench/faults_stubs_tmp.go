package main

func burstScenario() faultScenario     { return faultScenario{Name: "burst"} }
