package proxy

// Settle waits for the refreshes requests started in the background: tests
// wait on that event rather than sleep.
func Settle(s *Server) { s.async.Wait() }
