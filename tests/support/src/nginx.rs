//! nginx as a real third-party HTTP file server (WebDAV `PUT`/`DELETE`, plain `GET`), with
//! its own config, folder and logs per test.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::NGINX_INSTALL;
use crate::process::{ChildGuard, free_port, program, wait_until_closed};

/// A running nginx serving and accepting uploads into [`Nginx::root`], killed when dropped.
pub struct Nginx {
    port: u16,
    config: PathBuf,
    guard: Option<ChildGuard>,
    dir: tempfile::TempDir,
}

impl Nginx {
    /// Starts nginx on a free loopback port with WebDAV `PUT` and `DELETE` (folders created
    /// as needed, no upload size limit).
    ///
    /// # Panics
    /// When nginx is not installed (the message says how) or does not start.
    pub fn start() -> Nginx {
        let dir = tempfile::tempdir().expect("a temporary folder for nginx");
        for sub in ["www", "body", "proxy", "fastcgi", "uwsgi", "scgi"] {
            std::fs::create_dir(dir.path().join(sub)).expect("creating nginx folders");
        }
        let port = free_port();
        let config = dir.path().join("nginx.conf");
        std::fs::write(&config, config_text(port, dir.path())).expect("writing nginx.conf");
        let mut nginx = Nginx {
            port,
            config,
            guard: None,
            dir,
        };
        nginx.launch();
        nginx
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The folder it serves: `PUT /a/b` lands in `root()/a/b`.
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("www")
    }

    /// Kills nginx; downloads fail with connection errors until [`Nginx::restart`].
    pub fn stop(&mut self) {
        if let Some(mut guard) = self.guard.take() {
            guard.kill();
            wait_until_closed(self.port);
        }
    }

    /// Stops nginx if it runs, then starts it again on the same port and folder.
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    fn launch(&mut self) {
        let mut command = Command::new(program("nginx"));
        command
            .arg("-c")
            .arg(&self.config)
            .args(["-g", "daemon off;"]);
        let log = self.dir.path().join("stdout.log");
        let mut guard = ChildGuard::spawn(command, "nginx", &log, NGINX_INSTALL);
        guard.wait_for_port(self.port, &log);
        self.guard = Some(guard);
    }
}

fn config_text(port: u16, dir: &Path) -> String {
    let dir = dir.display();
    // `user root` lets workers write the folder when the tests run as root; nginx only
    // warns when they do not. `master_process off` keeps one process, so killing the guard's
    // child stops everything.
    let user = if is_root() { "user root;" } else { "" };
    format!(
        r#"{user}
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    client_max_body_size 0;
    server {{
        listen 127.0.0.1:{port};
        root {dir}/www;
        location / {{
            dav_methods PUT DELETE;
            create_full_put_path on;
            dav_access user:rw group:r all:r;
        }}
    }}
}}
"#
    )
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.stdout.trim_ascii() == b"0")
}
