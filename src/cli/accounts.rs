//! `hitkeep user ...` and `hitkeep token ...`: headless account administration on a stopped data
//! directory (the server holds the database lock while it runs).

use std::io::{BufRead, IsTerminal};

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};

use super::DataDirArg;
use super::sites::lookup;
use crate::app::offline::Offline;
use crate::domain::accounts::{Role, Scope};
use crate::domain::site::SiteDomain;

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Add a user. The password is read from HITKEEP_PASSWORD, else from standard input.
    Add(UserAddArgs),
    /// List users.
    List {
        #[command(flatten)]
        data: DataDirArg,
    },
    /// Turn off a user's two-factor sign-in (authenticator and recovery codes), for an owner who
    /// lost their phone. Their password still signs them in.
    #[command(name = "reset-2fa")]
    Reset2fa {
        #[arg(long)]
        email: String,
        #[command(flatten)]
        data: DataDirArg,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum InstanceRole {
    /// Instance administrator: manages users and every site.
    Admin,
    /// A user who sees the sites they are members of.
    User,
}

#[derive(Args, Debug)]
pub struct UserAddArgs {
    #[arg(long)]
    pub email: String,
    #[arg(long, value_enum, default_value = "user")]
    pub role: InstanceRole,
    #[arg(long, default_value = "")]
    pub name: String,
    /// Give the user a role on a site: `DOMAIN=viewer|admin|owner` (repeatable).
    #[arg(long = "site")]
    pub sites: Vec<String>,
    #[command(flatten)]
    pub data: DataDirArg,
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create an API token for a user and print it once.
    Create(TokenCreateArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TokenScope {
    Read,
    Admin,
}

#[derive(Args, Debug)]
pub struct TokenCreateArgs {
    /// The user the token acts for.
    #[arg(long)]
    pub email: String,
    #[arg(long)]
    pub name: String,
    /// Limit the token to this site (repeatable); without: all of the user's sites.
    #[arg(long = "site")]
    pub sites: Vec<String>,
    #[arg(long, value_enum, default_value = "read")]
    pub scope: TokenScope,
    /// Expire after this many days (default: never).
    #[arg(long)]
    pub expires_in_days: Option<u32>,
    #[command(flatten)]
    pub data: DataDirArg,
}

fn read_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("HITKEEP_PASSWORD") {
        return Ok(p);
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("password: ");
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line).context("cannot read the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn site_id(db: &Offline, domain: &str) -> anyhow::Result<crate::domain::site::SiteId> {
    let d = SiteDomain::parse(domain)?;
    lookup(db, domain)?.map(|s| s.id).with_context(|| format!("no site {d}; add it with `hitkeep site add {d}`"))
}

pub fn user(db: Offline, command: UserCommand) -> anyhow::Result<()> {
    let accounts = db.accounts()?;
    match command {
        UserCommand::Add(args) => {
            let mut grants = Vec::new();
            for spec in &args.sites {
                let (domain, role) = spec.split_once('=').unwrap_or((spec, "viewer"));
                grants.push((site_id(&db, domain)?, Role::parse(role)?));
            }
            let password = read_password()?;
            let user = accounts.add_user(&args.email, &password, &args.name, args.role == InstanceRole::Admin)?;
            for (site, role) in grants {
                accounts.grant(user.id, site, role)?;
            }
            db.checkpoint()?;
            println!("added user {} (id {}{})", user.email, user.id.0, if user.is_admin { ", admin" } else { "" });
        }
        UserCommand::Reset2fa { email, .. } => {
            let removed = accounts.reset_two_factor(&email)?;
            db.checkpoint()?;
            if removed {
                println!("two-factor sign-in of {email} is off; they sign in with their password and can enrol again");
            } else {
                println!("{email} had no two-factor sign-in; nothing changed");
            }
        }
        UserCommand::List { .. } => {
            for u in accounts.all_users()? {
                println!("{}\t{}\t{}\t{}", u.id.0, u.email, if u.is_admin { "admin" } else { "user" }, u.name);
            }
        }
    }
    Ok(())
}

pub fn token(db: Offline, command: TokenCommand) -> anyhow::Result<()> {
    let accounts = db.accounts()?;
    let TokenCommand::Create(args) = command;
    let sites = args.sites.iter().map(|d| site_id(&db, d)).collect::<anyhow::Result<Vec<_>>>()?;
    let scope = match args.scope {
        TokenScope::Read => Scope::Read,
        TokenScope::Admin => Scope::Admin,
    };
    let (record, secret) = accounts.create_token_for(&args.email, &args.name, scope, sites, args.expires_in_days)?;
    db.checkpoint()?;
    eprintln!("created token {} ({}); it is shown only now:", record.id, scope.as_str());
    println!("{secret}");
    Ok(())
}
