//! `api_answers!`: declares an `/api` response enum from its success variants and the names of the
//! shared error answers it can give, so each operation's status codes are listed once and the
//! standard answers (their docs, JSON body, bad-request handler and `failed` mapping) are written once.

/// Declares an `/api` response enum.
///
/// Each entry is either a standard answer named by keyword (`BadRequest` 400, `Unauthorized` 401,
/// `Forbidden` 403, `NotFound` 404, `Conflict` 409, `TooManyRequests` 429, `Internal` 500,
/// `Unavailable` 503; a doc comment before one replaces its standard doc) or a variant of its own,
/// `Name(status, payload, #[oai(header = "...")] Header...)` / `Name(status)`. Entries keep their order,
/// which is the order of the spec's responses. Also implements `ErrorAnswers` and an inherent
/// `failed` (the one mapping of `ApiFailure`); an answer the enum lacks falls back to `Internal`.
/// `pub enum X ["code", |err: poem::Error| message]` sets the bad request's code and message;
/// `pub enum X<T>` declares answers generic over one JSON payload type.
#[macro_export]
macro_rules! api_answers {
    ($(#[$m:meta])* pub enum $name:ident $(<$g:ident>)? { $($body:tt)* }) => {
        $crate::api_answers!($(#[$m])* pub enum $name $(<$g>)? ["invalid_request", |err: poem::Error| err.to_string()] { $($body)* });
    };
    ($(#[$m:meta])* pub enum $name:ident $(<$g:ident>)? [$code:literal, $msg:expr] { $($body:tt)* }) => {
        $crate::api_answers!(@munch [$(#[$m])* $name ($($g)?) $code ($msg)] {Internal Internal Internal Internal Internal} [] $($body)*);
    };

    // Standard answers without a doc of their own get the standard doc (the table below).
    (@munch $h:tt $s:tt [$($acc:tt)*] $std:ident $(, $($rest:tt)*)?) => {
        $crate::api_answers!(@doc $std ($h $s [$($acc)*]) [$($($rest)*)?]);
    };
    (@doc BadRequest $at:tt $rest:tt) => { $crate::api_answers!(@doc "Invalid input; `message` names the problem." BadRequest $at $rest); };
    (@doc Unauthorized $at:tt $rest:tt) => { $crate::api_answers!(@doc "Not signed in, or unknown credentials." Unauthorized $at $rest); };
    (@doc Forbidden $at:tt $rest:tt) => { $crate::api_answers!(@doc "The role or token scope does not allow this." Forbidden $at $rest); };
    (@doc NotFound $at:tt $rest:tt) => { $crate::api_answers!(@doc "No such thing, or not visible to the caller." NotFound $at $rest); };
    (@doc Conflict $at:tt $rest:tt) => { $crate::api_answers!(@doc "Conflicts with the current state." Conflict $at $rest); };
    (@doc TooManyRequests $at:tt $rest:tt) => { $crate::api_answers!(@doc "Too many requests; retry after `Retry-After` seconds." TooManyRequests $at $rest); };
    (@doc Internal $at:tt $rest:tt) => { $crate::api_answers!(@doc "Storage failed." Internal $at $rest); };
    (@doc Unavailable $at:tt $rest:tt) => { $crate::api_answers!(@doc "Busy; retry after `Retry-After` seconds." Unavailable $at $rest); };
    (@doc $doc:literal $std:ident ($h:tt $s:tt [$($acc:tt)*]) [$($rest:tt)*]) => {
        $crate::api_answers!(@munch $h $s [$($acc)*] #[doc = $doc] $std, $($rest)*);
    };

    // Standard answers with their doc: the variant, and the slot of the answers it serves.
    (@munch $h:tt {$b:ident $u:ident $f:ident $n:ident $c:ident} [$($acc:tt)*] $(#[$d:meta])+ BadRequest $(, $($rest:tt)*)?) => {
        $crate::api_answers!(@munch $h {BadRequest $u $f $n $c} [$($acc)* $(#[$d])+ #[oai(status = 400)] BadRequest(poem_openapi::payload::Json<$crate::adapters::http::errors::ApiErrorBody>),] $($($rest)*)?);
    };
    (@munch $h:tt {$b:ident $u:ident $f:ident $n:ident $c:ident} [$($acc:tt)*] $(#[$d:meta])+ Unauthorized $(, $($rest:tt)*)?) => {
        $crate::api_answers!(@munch $h {$b Unauthorized $f $n $c} [$($acc)* $(#[$d])+ #[oai(status = 401)] Unauthorized(poem_openapi::payload::Json<$crate::adapters::http::errors::ApiErrorBody>),] $($($rest)*)?);
    };
    (@munch $h:tt {$b:ident $u:ident $f:ident $n:ident $c:ident} [$($acc:tt)*] $(#[$d:meta])+ Forbidden $(, $($rest:tt)*)?) => {
        $crate::api_answers!(@munch $h {$b $u Forbidden $n $c} [$($acc)* $(#[$d])+ #[oai(status = 403)] Forbidden(poem_openapi::payload::Json<$crate::adapters::http::errors::ApiErrorBody>),] $($($rest)*)?);
    };
    (@munch $h:tt {$b:ident $u:ident $f:ident $n:ident $c:ident} [$($acc:tt)*] $(#[$d:meta])+ NotFound $(, $($rest:tt)*)?) => {
        $crate::api_answers!(@munch $h {$b $u $f NotFound $c} [$($acc)* $(#[$d])+ #[oai(status = 404)] NotFound(poem_openapi::payload::Json<$crate::adapters::http::errors::ApiErrorBody>),] $($($rest)*)?);
    };
    (@munch $h:tt {$b:ident $u:ident $f:ident $n:ident $c:ident} [$($acc:tt)*] $(#[$d:meta])+ Conflict $(, $($rest:tt)*)?) => {
        $crate::api_answers!(@munch $h {$b $u $f $n Conflict} [$($acc)* $(#[$d])+ #[oai(status = 409)] Conflict(poem_openapi::payload::Json<$crate::adapters::http::errors::ApiErrorBody>),] $($($rest)*)?);
    };
    (@munch $h:tt $s:tt [$($acc:tt)*] $(#[$d:meta])+ TooManyRequests $(, $($rest:tt)*)?) => {
        $crate::api_answers!(@munch $h $s [$($acc)* $(#[$d])+ #[oai(status = 429)] TooManyRequests(poem_openapi::payload::Json<$crate::adapters::http::errors::ApiErrorBody>, #[oai(header = "Retry-After")] u64),] $($($rest)*)?);
    };
    (@munch $h:tt $s:tt [$($acc:tt)*] $(#[$d:meta])+ Internal $(, $($rest:tt)*)?) => {
        $crate::api_answers!(@munch $h $s [$($acc)* $(#[$d])+ #[oai(status = 500)] Internal(poem_openapi::payload::Json<$crate::adapters::http::errors::ApiErrorBody>),] $($($rest)*)?);
    };
    (@munch $h:tt $s:tt [$($acc:tt)*] $(#[$d:meta])+ Unavailable $(, $($rest:tt)*)?) => {
        $crate::api_answers!(@munch $h $s [$($acc)* $(#[$d])+ #[oai(status = 503)] Unavailable(poem_openapi::payload::Json<$crate::adapters::http::errors::ApiErrorBody>, #[oai(header = "Retry-After")] u64),] $($($rest)*)?);
    };

    // A variant of its own: `Name(status)` or `Name(status, fields...)`.
    (@munch $h:tt $s:tt [$($acc:tt)*] $(#[$d:meta])* $v:ident ($st:literal) $(, $($rest:tt)*)?) => {
        $crate::api_answers!(@munch $h $s [$($acc)* $(#[$d])* #[oai(status = $st)] $v,] $($($rest)*)?);
    };
    (@munch $h:tt $s:tt [$($acc:tt)*] $(#[$d:meta])* $v:ident ($st:literal $(, $(#[$fa:meta])* $f:ty)+) $(, $($rest:tt)*)?) => {
        $crate::api_answers!(@munch $h $s [$($acc)* $(#[$d])* #[oai(status = $st)] $v($($(#[$fa])* $f),+),] $($($rest)*)?);
    };

    (@munch [$(#[$m:meta])* $name:ident ($($g:ident)?) $code:literal ($msg:expr)] {$b:ident $u:ident $f:ident $n:ident $c:ident} [$($acc:tt)*]) => {
        $(#[$m])*
        #[derive(poem_openapi::ApiResponse)]
        #[oai(bad_request_handler = "Self::parse_failed")]
        pub enum $name $(<$g: poem_openapi::types::ToJSON>)? { $($acc)* }

        impl $(<$g: poem_openapi::types::ToJSON>)? $name $(<$g>)? {
            /// A request poem-openapi could not extract.
            fn parse_failed(err: poem::Error) -> Self {
                <Self as $crate::adapters::http::guard::ErrorAnswers>::refused(err, |err| {
                    Self::$b($crate::adapters::http::errors::body($code, ($msg)(err)))
                })
            }

            /// Answers a refusal of a service: the one mapping of `ApiFailure`.
            #[allow(dead_code)]
            pub fn failed(e: impl $crate::adapters::http::guard::ApiFailure) -> Self {
                <Self as $crate::adapters::http::guard::ErrorAnswers>::failure(e.answer())
            }
        }

        impl $(<$g: poem_openapi::types::ToJSON>)? $crate::adapters::http::guard::ErrorAnswers for $name $(<$g>)? {
            fn failure(answer: $crate::adapters::http::guard::Answer) -> Self {
                use $crate::adapters::http::errors::body;
                use $crate::adapters::http::guard::Answer;
                match answer {
                    Answer::BadRequest(code, m) => Self::$b(body(code, m)),
                    Answer::Unauthorized => Self::unauthorized(),
                    Answer::Forbidden(m) => Self::forbidden(m),
                    Answer::NotFound(m) => Self::not_found(m),
                    Answer::Conflict(code, m) => Self::$c(body(code, m)),
                    Answer::Internal(m) => Self::internal(m),
                }
            }
            fn unauthorized() -> Self {
                use $crate::adapters::http::guard::UNAUTHORIZED;
                Self::$u($crate::adapters::http::errors::body("unauthorized", UNAUTHORIZED))
            }
            fn forbidden(message: String) -> Self {
                Self::$f($crate::adapters::http::errors::body("forbidden", message))
            }
            fn not_found(message: String) -> Self {
                Self::$n($crate::adapters::http::errors::body("not_found", message))
            }
            fn internal(message: String) -> Self {
                Self::Internal($crate::adapters::http::errors::body("internal", message))
            }
        }
    };
}

crate::api_answers! {
    /// The answers about a site's collection of things (goals, annotations, segments, webhooks,
    /// e-mail subscriptions): listed, added, deleted, or refused.
    pub enum Collection<T> {
        /// The site's items the caller sees (see the operation).
        List(200, poem_openapi::payload::Json<Vec<T>>),
        /// Created.
        Created(201, poem_openapi::payload::Json<T>),
        /// Deleted.
        Deleted(204),
        /// Invalid input; `message` names the problem.
        BadRequest,
        Unauthorized,
        /// The caller's role or token scope does not allow this change.
        Forbidden,
        /// No such site, or no such item the caller sees.
        NotFound,
        Internal,
    }
}

crate::api_answers! {
    /// The answers of reading or changing one thing with input to check (a segment, alert settings).
    pub enum Item<T> {
        /// The thing, as it is now.
        Ok(200, poem_openapi::payload::Json<T>),
        /// Invalid input; `message` names the problem.
        BadRequest,
        Unauthorized, Forbidden,
        /// No such site, or no such thing the caller sees.
        NotFound,
        Internal,
    }
}

crate::api_answers! {
    /// The answers of a read without input to check (alerts, funnels, the cluster).
    pub enum Read<T> {
        /// What was asked for.
        Ok(200, poem_openapi::payload::Json<T>),
        Unauthorized, Forbidden,
        /// No such site.
        NotFound,
        Internal,
    }
}
