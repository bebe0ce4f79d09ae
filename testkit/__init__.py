"""What the tests and the benchmarks share: generated media served like a video site, a library filled
straight from text, and local stand-ins for the paid, remote services (Supabase, OpenAI)."""
