#pragma once
// A database server of the test's own (PostgreSQL or MariaDB), for faults that must not touch
// the shared throwaway servers of scripts/test-dbs-start.sh: stopping the server mid-sync and
// starting it again. Its data directory lives in a temp folder removed at the end; it listens
// on 127.0.0.1 on a port free when it was chosen, kept across restarts; it holds database
// `erp` owned by user `erp` with a random password (a canary the tests look for in logs).
//
// Started as scripts/test-dbs-start.sh starts the shared ones: as root, PostgreSQL runs as the
// system user postgres (it refuses root) and MariaDB drops to mysql; as an ordinary user both
// run as that user. Every wait is on an event: pg_ctl's own -w (it waits for the postmaster's
// ready state and for its exit), MariaDB's "ready for connections" line and its exit.
//
// Thread-safety: one test thread.

#include <filesystem>
#include <memory>
#include <string>

#include "support/test_databases.hpp"

namespace erpsync::testing {

class ChildProcess;

class PrivateDbServer {
 public:
  // Initialises and starts a server; nullptr with `skip_reason` when the engine's binaries or
  // system user are missing or it does not come up (with its log's tail).
  static std::unique_ptr<PrivateDbServer> start(Engine engine, std::string& skip_reason);
  ~PrivateDbServer();  // stops the server (immediately) and removes its folder
  PrivateDbServer(const PrivateDbServer&) = delete;
  PrivateDbServer& operator=(const PrivateDbServer&) = delete;

  Engine engine() const { return engine_; }
  int port() const { return port_; }
  const std::string& password() const { return password_; }
  // ODBC connection string of database `erp` (holds the password: never log it unredacted).
  std::string connection_string() const;

  // Fast shutdown (PostgreSQL `pg_ctl stop -m fast`: sessions are terminated, open
  // transactions rolled back; MariaDB SIGTERM: the same); returns once the server has exited.
  // Throws std::runtime_error when it does not stop.
  void stop();
  // Starts the stopped server again on the same port and data; returns once it accepts
  // connections. Throws std::runtime_error (with the log's tail) when it does not.
  void restart();
  bool running() const { return running_; }

  // The server's own log so far (for failure messages).
  std::string log_tail() const;

 private:
  PrivateDbServer(Engine engine, std::filesystem::path dir, int port, std::string password);
  void start_server();  // throws std::runtime_error
  void initialise();    // throws std::runtime_error

  Engine engine_;
  std::filesystem::path dir_;
  int port_;
  std::string password_;
  std::string os_user_;  // user the server runs as ("" = this process's user)
  bool running_ = false;
  std::unique_ptr<ChildProcess> mariadbd_;
};

}  // namespace erpsync::testing
