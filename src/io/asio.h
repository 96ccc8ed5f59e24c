// Standalone Asio, included through here only. GCC 12 reports a "potential null pointer
// dereference" inside Asio's scheduler once it is inlined into our code (a thread-local pointer
// that is set before use): the warning is Asio's, so it is silenced for Asio's lines alone.
#pragma once

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <asio.hpp>
#include <asio/ssl.hpp>
#pragma GCC diagnostic pop
