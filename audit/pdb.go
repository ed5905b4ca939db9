package audit

// checkPDB is the place for "a multi-replica workload without a
// PodDisruptionBudget that selects it" (engineer pdb's check, in its GS4xx
// range): the lead wires it here. A node drain evicts every replica at
// once without one.
func (c *checker) checkPDB(w *workload) []Finding {
	return nil
}
