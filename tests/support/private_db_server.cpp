#include "support/private_db_server.hpp"

#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "support/child_process.hpp"
#include "support/process.hpp"

namespace erpsync::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// `name` on PATH (or in the usual sbin folders, which a non-root PATH may lack); "" if absent.
std::string find_program(const std::string& name) {
  std::vector<std::string> dirs;
  if (const char* path = std::getenv("PATH")) {
    std::stringstream ss(path);
    for (std::string d; std::getline(ss, d, ':');) dirs.push_back(d);
  }
  for (const char* d : {"/usr/sbin", "/sbin", "/usr/bin", "/bin"}) dirs.push_back(d);
  for (const auto& d : dirs) {
    const fs::path p = fs::path(d) / name;
    if (!d.empty() && ::access(p.c_str(), X_OK) == 0) return p.string();
  }
  return "";
}

// PG_BIN, else the newest /usr/lib/postgresql/<version>/bin (as test-dbs-start.sh does).
std::string pg_bin() {
  if (const char* v = std::getenv("PG_BIN"); v && *v) return v;
  std::vector<fs::path> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec))
    if (fs::exists(e.path() / "bin" / "initdb")) found.push_back(e.path() / "bin");
  std::sort(found.begin(), found.end(), [](const fs::path& a, const fs::path& b) {
    return std::stoi(a.parent_path().filename().string()) < std::stoi(b.parent_path().filename().string());
  });
  return found.empty() ? "" : found.back().string();
}

// A loopback port nobody listens on now (the OS's choice for port 0).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot pick a free loopback port");
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

std::string random_hex(int n) {
  std::random_device rd;
  std::string out;
  for (int i = 0; i < n; ++i) out += "0123456789abcdef"[rd() % 16];
  return out;
}

std::string tail(const std::string& text, std::size_t lines = 30) {
  std::size_t at = text.size();
  for (std::size_t n = 0; n <= lines && at != std::string::npos && at > 0; ++n) at = text.rfind('\n', at - 1);
  return at == std::string::npos ? text : text.substr(at + 1);
}

void chown_tree(const fs::path& p, const std::string& user) {
  const passwd* pw = ::getpwnam(user.c_str());
  if (!pw) throw std::runtime_error("no system user " + user);
  if (::chown(p.c_str(), pw->pw_uid, pw->pw_gid) != 0) throw std::runtime_error("cannot chown " + p.string());
  for (const auto& e : fs::recursive_directory_iterator(p))
    if (::chown(e.path().c_str(), pw->pw_uid, pw->pw_gid) != 0) throw std::runtime_error("cannot chown " + e.path().string());
}

// Runs a command to completion; throws with its output when it fails.
void run_checked(const std::vector<std::string>& argv, const std::string& what) {
  const ProcessResult r = run_process(argv);
  if (r.exit_code != 0) throw std::runtime_error(what + " failed (exit " + std::to_string(r.exit_code) + "):\n" + tail(r.all()));
}

}  // namespace

PrivateDbServer::PrivateDbServer(Engine engine, fs::path dir, int port, std::string password)
    : engine_(engine), dir_(std::move(dir)), port_(port), password_(std::move(password)) {}

std::unique_ptr<PrivateDbServer> PrivateDbServer::start(Engine engine, std::string& skip_reason) {
  const bool root = ::geteuid() == 0;
  std::string os_user;
  if (engine == Engine::postgresql) {
    const std::string bin = pg_bin();
    if (bin.empty() || ::access((bin + "/pg_ctl").c_str(), X_OK) != 0) {
      skip_reason = "no PostgreSQL server binaries (initdb, pg_ctl: install postgresql or set PG_BIN)";
      return nullptr;
    }
    if (root) os_user = "postgres";
    if (root && find_program("runuser").empty()) {
      skip_reason = "runuser not found: PostgreSQL cannot be started as root";
      return nullptr;
    }
  } else if (engine == Engine::mariadb) {
    if (find_program("mariadbd").empty() || find_program("mariadb-install-db").empty() ||
        find_program("mariadb").empty()) {
      skip_reason = "no MariaDB server binaries (mariadbd, mariadb-install-db: install mariadb-server)";
      return nullptr;
    }
    if (root) os_user = "mysql";
  } else {
    skip_reason = "SQLite has no server";
    return nullptr;
  }
  if (!os_user.empty() && !::getpwnam(os_user.c_str())) {
    skip_reason = "system user " + os_user + " is missing (the server refuses to run as root)";
    return nullptr;
  }

  std::string tmpl = (fs::temp_directory_path() / "erpsync-privdb-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) {
    skip_reason = "cannot create a temp folder for a private server";
    return nullptr;
  }
  std::unique_ptr<PrivateDbServer> s(new PrivateDbServer(engine, tmpl, free_port(), "Canary-Db-" + random_hex(16)));
  s->os_user_ = os_user;
  try {
    s->initialise();
  } catch (const std::exception& e) {
    skip_reason = std::string("private ") + std::string(engine_name(engine)) + " server did not start: " + e.what() +
                  "\n" + s->log_tail();
    return nullptr;
  }
  return s;
}

void PrivateDbServer::initialise() {
  // The server's user must reach its folder (a mkdtemp folder is 0700 and ours).
  fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                            fs::perms::others_read | fs::perms::others_exec);
  if (engine_ == Engine::postgresql) {
    fs::create_directories(dir_ / "sock");
    if (!os_user_.empty()) chown_tree(dir_, os_user_);
    const std::string bin = pg_bin();
    std::vector<std::string> initdb = {bin + "/initdb", "-D", (dir_ / "data").string(), "-U", "postgres", "-E", "UTF8",
                                       "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256"};
    if (!os_user_.empty()) initdb.insert(initdb.begin(), {find_program("runuser"), "-u", os_user_, "--"});
    run_checked(initdb, "initdb");
    start_server();
    std::vector<std::string> psql = {bin + "/psql", "-X", "-q", "-h", (dir_ / "sock").string(), "-p",
                                     std::to_string(port_), "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1",
                                     "-c", "CREATE ROLE erp LOGIN PASSWORD '" + password_ + "'",
                                     "-c", "CREATE DATABASE erp OWNER erp ENCODING 'UTF8' TEMPLATE template0"};
    if (!os_user_.empty()) psql.insert(psql.begin(), {find_program("runuser"), "-u", os_user_, "--"});
    run_checked(psql, "psql (create role and database)");
    return;
  }
  fs::create_directories(dir_ / "data");
  fs::create_directories(dir_ / "tmp");
  if (!os_user_.empty()) chown_tree(dir_, os_user_);
  const std::string user = os_user_.empty() ? std::string(::getpwuid(::geteuid())->pw_name) : os_user_;
  // --no-defaults: Debian's /etc/mysql/*.cnf point at /run/mysqld and the system datadir.
  run_checked({find_program("mariadb-install-db"), "--no-defaults", "--datadir=" + (dir_ / "data").string(),
               "--user=" + user, "--auth-root-authentication-method=normal", "--skip-test-db"},
              "mariadb-install-db");
  start_server();
  const std::string grants =
      "CREATE DATABASE erp CHARACTER SET utf8mb4;"
      "CREATE USER 'erp'@'127.0.0.1' IDENTIFIED BY '" + password_ + "';"
      "GRANT ALL ON erp.* TO 'erp'@'127.0.0.1';";
  run_checked({find_program("mariadb"), "--no-defaults", "-S", (dir_ / "mariadb.sock").string(), "-uroot", "-e", grants},
              "mariadb (create user and database)");
}

void PrivateDbServer::start_server() {
  if (engine_ == Engine::postgresql) {
    // -w: pg_ctl returns once the server accepts connections (or fails). fsync=off: this
    // server is only ever stopped cleanly, and the cores are shared.
    std::vector<std::string> argv = {pg_bin() + "/pg_ctl", "-D", (dir_ / "data").string(), "-l",
                                     (dir_ / "server.log").string(), "-w", "-t", "120", "-o",
                                     "-c listen_addresses=127.0.0.1 -p " + std::to_string(port_) +
                                         " -c unix_socket_directories=" + (dir_ / "sock").string() + " -c fsync=off",
                                     "start"};
    if (!os_user_.empty()) argv.insert(argv.begin(), {find_program("runuser"), "-u", os_user_, "--"});
    run_checked(argv, "pg_ctl start");
    running_ = true;
    return;
  }
  const std::string user = os_user_.empty() ? std::string(::getpwuid(::geteuid())->pw_name) : os_user_;
  mariadbd_ = std::make_unique<ChildProcess>(std::vector<std::string>{
      find_program("mariadbd"), "--no-defaults", "--datadir=" + (dir_ / "data").string(),
      "--socket=" + (dir_ / "mariadb.sock").string(), "--port=" + std::to_string(port_), "--bind-address=127.0.0.1",
      "--user=" + user, "--pid-file=" + (dir_ / "mariadbd.pid").string(), "--tmpdir=" + (dir_ / "tmp").string(),
      "--skip-name-resolve", "--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci",
      "--innodb-buffer-pool-size=32M"});
  // The line mariadbd logs once it listens (false: it exited or took too long).
  if (!mariadbd_->wait_for_output("ready for connections", 120s))
    throw std::runtime_error("mariadbd did not report \"ready for connections\":\n" + tail(mariadbd_->output()));
  running_ = true;
}

void PrivateDbServer::stop() {
  if (!running_) return;
  if (engine_ == Engine::postgresql) {
    std::vector<std::string> argv = {pg_bin() + "/pg_ctl", "-D", (dir_ / "data").string(), "-m", "fast", "-w",
                                     "-t", "120", "stop"};
    if (!os_user_.empty()) argv.insert(argv.begin(), {find_program("runuser"), "-u", os_user_, "--"});
    run_checked(argv, "pg_ctl stop -m fast");
  } else {
    mariadbd_->signal(SIGTERM);
    if (!mariadbd_->wait_exit(120s)) throw std::runtime_error("mariadbd did not exit within 120 s of SIGTERM");
  }
  running_ = false;
}

void PrivateDbServer::restart() {
  if (!running_) start_server();
}

std::string PrivateDbServer::connection_string() const {
  const std::string common =
      "Server=127.0.0.1;Port=" + std::to_string(port_) + ";Database=erp;Uid=erp;Pwd=" + password_ + ";";
  // Debian's odbcinst.ini turns psqlODBC's CommLog on: keep /tmp clean.
  return engine_ == Engine::postgresql ? "Driver={PostgreSQL Unicode};" + common + "CommLog=0;"
                                       : "Driver={MariaDB Unicode};" + common;
}

std::string PrivateDbServer::log_tail() const {
  if (engine_ == Engine::mariadb) return mariadbd_ ? tail(mariadbd_->output()) : "";
  std::ifstream in(dir_ / "server.log");
  std::stringstream ss;
  ss << in.rdbuf();
  return tail(ss.str());
}

PrivateDbServer::~PrivateDbServer() {
  try {
    if (running_ && engine_ == Engine::postgresql) {
      std::vector<std::string> argv = {pg_bin() + "/pg_ctl", "-D", (dir_ / "data").string(), "-m", "immediate", "-w",
                                       "stop"};
      if (!os_user_.empty()) argv.insert(argv.begin(), {find_program("runuser"), "-u", os_user_, "--"});
      run_process(argv);
    } else if (running_ && mariadbd_) {
      mariadbd_->signal(SIGKILL);
      mariadbd_->wait_exit(60s);
    }
  } catch (const std::exception&) {
  }
  mariadbd_.reset();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

}  // namespace erpsync::testing
